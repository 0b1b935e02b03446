// Read-your-writes for an eventually consistent read model: after a write, poll the search until it
// shows that write (the listing at the new version, or gone after a delete), so the page can say when
// search has caught up instead of showing stale results without a word.
import type { Api, Listing } from './api';

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
