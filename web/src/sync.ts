// Read-your-writes for an eventually consistent read model: after a write, poll the search until it
// shows that write (the listing at the new version, or gone after a delete), so the page can say when
// search has caught up instead of showing stale results without a word.
import type { Api, Listing, ProjectionSignal } from './api';

export type Target = { kind: 'version'; listing: Listing } | { kind: 'deleted'; listing: Listing };

export interface CatchUp {
  caughtUp: boolean;
  elapsedMs: number;
  polls: number;
}

/** True once the search results reflect the target write. Versions compare as integers (design §3). */
export function reflects(items: Listing[], target: Target): boolean {
  const found = items.find((item) => item.id === target.listing.id);
  if (target.kind === 'deleted') return found === undefined;
  return found !== undefined && BigInt(found.version) >= BigInt(target.listing.version);
}

export async function waitForSearch(
  api: Api,
  target: Target,
  { timeoutMs = 30_000, intervalMs = 250 } = {},
): Promise<CatchUp> {
  const started = performance.now();
  // The owner's newest listings with the title's words: a narrow search that holds the target.
  const search = {
    query: target.listing.title,
    filter: { owner: target.listing.owner },
    sort: 'NEWEST' as const,
    limit: 100,
  };
  for (let polls = 1; ; polls += 1) {
    const result = await api.search(search);
    const elapsedMs = performance.now() - started;
    if (reflects(result.items, target)) return { caughtUp: true, elapsedMs, polls };
    if (elapsedMs + intervalMs > timeoutMs) return { caughtUp: false, elapsedMs, polls };
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** True when a projection signal covers the target write: same listing, at the write's version or a
 * newer one (versions are decimal strings: compare as integers), and a delete for a delete. */
export function covers(signal: ProjectionSignal, target: Target): boolean {
  if (signal.id !== target.listing.id) return false;
  if (target.kind === 'deleted' && !signal.deleted) return false;
  return BigInt(signal.version) >= BigInt(target.listing.version);
}

/**
 * Projection signals since a write started, so one that arrives before the write's own answer is not
 * missed (the subscription was open before the write: the page subscribes first).
 */
export class SignalBox {
  private seen: ProjectionSignal[] = [];
  private waiters = new Set<(signal: ProjectionSignal) => void>();

  /** Forget older signals: a new write starts now. */
  reset(): void {
    this.seen = [];
  }

  push(signal: ProjectionSignal): void {
    this.seen.push(signal);
    for (const waiter of [...this.waiters]) waiter(signal);
  }

  /** The first signal covering `target`, or null after `timeoutMs` (the signal is best effort). */
  wait(target: Target, timeoutMs: number): Promise<ProjectionSignal | null> {
    const already = this.seen.find((signal) => covers(signal, target));
    if (already) return Promise.resolve(already);
    return new Promise((resolve) => {
      const done = (signal: ProjectionSignal | null): void => {
        this.waiters.delete(waiter);
        clearTimeout(timer);
        resolve(signal);
      };
      const waiter = (signal: ProjectionSignal): void => {
        if (covers(signal, target)) done(signal);
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      this.waiters.add(waiter);
    });
  }
}
