// The page: wires the search panel, the results and the listing editor to the API.
import './style.css';
import { CONNECTION_STATE_CHANGE, ConnectionState } from 'aws-amplify/api';
import { Hub } from 'aws-amplify/utils';
import { Api, ApiError, CATEGORIES, toApiError } from './api';
import type { Category, Listing, Review, SearchInput, SearchResult, SearchSort } from './api';
import { type Authenticator, type User, configureAmplify } from './auth';
import { loadConfig } from './config';
import { byId, el, show } from './dom';
import { FormError, fillListing, readListing } from './form';
import { type CatchUp, SignalBox, type Target, waitForSearch } from './sync';
import { REVIEW_PAGE_SIZE, ReviewFormError, appendPage, mayDeleteReview, readReview, reviewErrorText } from './reviews';
import { card, categoryFacets, priceFacets, reviewItem } from './view';

const PAGE_SIZE = 10;

const state = {
  user: null as User | null,
  categories: new Set<string>(),
  facets: null as SearchResult['facets'] | null,
  items: [] as Listing[],
  total: 0,
  nextToken: null as string | null,
  editing: null as Listing | null,
  searchRun: 0, // only the newest search may render
  // The reviews panel: the listing as last read (consistently), the reviews shown, the next page's token.
  reviewing: null as { listing: Listing; items: Review[]; nextToken: string | null } | null,
  reviewsRun: 0, // only the newest reviews read may render
  syncRun: 0, // only the newest write may update the sync banner
};

// Live updates: the subscription's stop function, and the newest changes shown in #live-feed.
const live = { stop: null as (() => void) | null, feed: [] as Listing[] };
const LIVE_FEED_SIZE = 5;

// The projection signal (onListingProjected, the user's own listings): `ready` once AppSync acknowledged
// its start (Amplify's Hub event below). A write made while it is ready waits for its signal, which
// cannot be missed since the subscription was open first; otherwise the write polls search.
const signals = { stop: null as (() => void) | null, ready: false, box: new SignalBox() };
// The signal is best effort: without one this long after a write, the page polls search instead.
const SIGNAL_WAIT_MS = 10_000;

// Set once by start() from config.json.
let api: Api;
let hasApiKey = false;
let catchUpSeconds = 30;

const searchForm = byId<HTMLFormElement>('search-form');
const listingForm = byId<HTMLFormElement>('listing-form');
const formMessage = byId('form-message');
const syncBanner = byId('sync');
const input = (id: string): HTMLInputElement => byId<HTMLInputElement>(id);

function numberOrNull(id: string): number | null {
  const text = input(id).value.trim();
  return text === '' ? null : Number(text);
}

function searchInput(): SearchInput {
  const query = input('q').value.trim();
  const [minPrice, maxPrice] = [numberOrNull('min-price'), numberOrNull('max-price')];
  const [lat, lon, radiusKm] = [numberOrNull('near-lat'), numberOrNull('near-lon'), numberOrNull('near-km')];
  const filter: SearchInput['filter'] = {};
  if (state.categories.size) filter.categories = [...state.categories] as Category[];
  if (minPrice !== null) filter.minPrice = minPrice;
  if (maxPrice !== null) filter.maxPrice = maxPrice;
  const sort = byId<HTMLSelectElement>('sort').value as SearchSort | '';
  return {
    ...(query ? { query } : {}),
    filter,
    ...(lat !== null && lon !== null && radiusKm !== null ? { near: { lat, lon, radiusKm } } : {}),
    ...(sort ? { sort } : {}), // none: the API's default
    limit: PAGE_SIZE,
  };
}

function mine(listing: Listing): boolean {
  return state.user !== null && state.user.identities.includes(listing.owner);
}

function renderResults(): void {
  const actions = {
    mine,
    edit: (l: Listing) => void startEdit(l),
    remove: (l: Listing) => void remove(l),
    reviews: (l: Listing) => void openReviews(l.id),
  };
  byId('results').replaceChildren(...state.items.map((listing) => card(listing, actions)));
  byId('summary').textContent =
    state.total === 0 ? 'No listings match.' : `${state.total} listings · showing ${state.items.length}`;
  byId('more').hidden = state.nextToken === null;
  byId('facet-categories').replaceChildren(
    ...categoryFacets(state.facets, state.categories, (category, checked) => {
      if (checked) state.categories.add(category);
      else state.categories.delete(category);
      void runSearch();
    }),
  );
  byId('facet-prices').replaceChildren(
    ...priceFacets(state.facets, (from, to) => {
      input('min-price').value = from === null ? '' : String(from);
      // A bucket's upper bound is exclusive and maxPrice inclusive; prices have at most 2 decimals.
      input('max-price').value = to === null ? '' : String(to - 0.01);
      void runSearch();
    }),
  );
}

async function runSearch(more = false): Promise<void> {
  const run = ++state.searchRun;
  if (!state.user && !hasApiKey) {
    show(byId('search-error'), 'Sign in to search: this stack has no API key for signed-out visitors.');
    return;
  }
  const request = { ...searchInput(), ...(more ? { nextToken: state.nextToken } : {}) };
  searchForm.setAttribute('aria-busy', 'true');
  try {
    const result = await api.search(request);
    if (run !== state.searchRun) return;
    state.items = more ? [...state.items, ...result.items] : result.items;
    state.total = result.total;
    state.nextToken = result.nextToken;
    state.facets = result.facets;
    show(byId('search-error'), null);
    renderResults();
  } catch (failure) {
    if (run === state.searchRun) show(byId('search-error'), describe(toApiError(failure)));
  } finally {
    if (run === state.searchRun) {
      searchForm.removeAttribute('aria-busy');
      document.body.dataset.searches = String(run); // lets tests wait for a search to land
    }
  }
}

function describe(error: ApiError): string {
  switch (error.errorType) {
    case 'NetworkError':
      return `The API did not answer: ${error.message}`;
    case 'UnauthorizedError': // the resolvers' own (not the owner)
    case 'UnauthorizedException': // AppSync's (no or bad credentials)
      return `Not allowed: ${error.message}${state.user ? '' : ' (sign in first)'}`;
    case 'SearchUnavailableError':
      return `Search is unavailable right now: ${error.message}`;
    default:
      return `${error.errorType}: ${error.message}`;
  }
}

/** After a write: say so, wait for its projection signal (subscribed before the write) or else poll
 * search until it shows the write, then refresh the results. `signalSince`: when the write was sent, if
 * the signal subscription was open then; null: poll. */
async function trackSearch(target: Target, signalSince: number | null = null): Promise<void> {
  const run = ++state.syncRun;
  const what = target.kind === 'deleted' ? 'deletion' : `version ${target.listing.version}`;
  syncBanner.dataset.version = target.listing.version;
  syncBanner.dataset.via = '';
  if (signalSince !== null) {
    syncBanner.dataset.state = 'indexing';
    syncBanner.textContent = `Stored “${target.listing.title}” (${what}). Indexing…`;
    const signal = await signals.box.wait(target, Math.min(SIGNAL_WAIT_MS, catchUpSeconds * 1000));
    if (run !== state.syncRun) return;
    if (signal) {
      const elapsed = Math.round(performance.now() - signalSince);
      await runSearch(); // refresh the results first, so the banner never claims more than they show
      if (run !== state.syncRun) return;
      syncBanner.dataset.state = 'caught-up';
      syncBanner.dataset.via = 'signal';
      syncBanner.textContent = `Search has caught up with “${target.listing.title}” (${what}): searchable after ${elapsed} ms (projection signal).`;
      return;
    }
  }
  syncBanner.dataset.state = 'pending';
  syncBanner.dataset.via = 'polling';
  syncBanner.textContent = `Stored “${target.listing.title}” (${what}). Waiting for search to catch up…`;
  let outcome: CatchUp | ApiError;
  try {
    outcome = await waitForSearch(api, target, { timeoutMs: catchUpSeconds * 1000 });
  } catch (failure) {
    outcome = toApiError(failure);
  }
  if (run !== state.syncRun) return;
  await runSearch(); // refresh the results first, so the banner never claims more than they show
  if (outcome instanceof ApiError) {
    syncBanner.dataset.state = 'lagging';
    syncBanner.textContent = `Could not check search: ${describe(outcome)}`;
    return;
  }
  const seconds = (outcome.elapsedMs / 1000).toFixed(1);
  syncBanner.dataset.state = outcome.caughtUp ? 'caught-up' : 'lagging';
  syncBanner.textContent = outcome.caughtUp
    ? `Search has caught up with “${target.listing.title}” (${what}) after ${seconds} s.`
    : `Search still does not show “${target.listing.title}” (${what}) after ${seconds} s; results may be stale.`;
}

function setLive(status: 'connecting' | 'on' | 'off', text: string): void {
  document.body.dataset.live = status; // lets tests wait for the subscription
  byId('live-status').textContent = text;
}

/** A change someone made (this user included), listed in the feed. The result cards are left as the
 * last search showed them: their versions are what an edit or delete expects, so a stale card still
 * ends in a conflict the user can resolve (cqrs-loop.test.mjs), never in a write of unseen data. */
function onLiveChange(listing: Listing): void {
  const others = live.feed.filter((item) => !(item.id === listing.id && item.version === listing.version));
  live.feed = [listing, ...others].slice(0, LIVE_FEED_SIZE);
  byId('live-feed').replaceChildren(
    // data-listing, not data-id: data-id marks the result cards.
    ...live.feed.map((item) =>
      el(
        'li',
        { 'data-listing': item.id, 'data-listing-version': item.version },
        `“${item.title}” · version ${item.version} · ${mine(item) ? 'by you' : 'by another user'}`,
      ),
    ),
  );
}

/** The signed-in user's projection signals; a failure leaves writes waiting for search by polling. */
function startSignals(): void {
  signals.stop?.();
  signals.stop = null;
  signals.ready = false;
  document.body.dataset.signal = 'off';
  const sub = state.user?.sub;
  if (!sub) return;
  signals.stop = api.watchProjected(
    sub,
    (signal) => signals.box.push(signal),
    () => {
      signals.stop = null;
      signals.ready = false;
      document.body.dataset.signal = 'off';
    },
  );
}

/** (Re)subscribe with the current auth mode; a failure leaves the page working as before (polling). */
function startLive(): void {
  live.stop?.();
  setLive('connecting', 'Connecting to live updates…');
  live.stop = api.watch(onLiveChange, (error) =>
    setLive('off', `Live updates unavailable (${describe(error)}); saving still waits for search by polling.`),
  );
}

function setEditing(listing: Listing | null): void {
  state.editing = listing;
  fillListing(listingForm, listing);
  byId('editor-title').textContent = listing ? 'Edit listing' : 'New listing';
  byId('save').textContent = listing ? 'Save changes' : 'Create listing';
  byId('cancel-edit').hidden = listing === null;
  const editing = byId('editing');
  editing.hidden = listing === null;
  editing.textContent = listing ? `Editing ${listing.id} at version ${listing.version}` : '';
  editing.dataset.version = listing?.version ?? '';
}

function message(kind: 'ok' | 'error' | 'conflict', content: string, ...extra: Node[]): void {
  formMessage.className = `message ${kind}`;
  formMessage.dataset.kind = kind;
  show(formMessage, el('span', {}, content, ...extra));
}

/** Edit from a consistent read (getListing), so the expected version is the current one. */
async function startEdit(listing: Listing): Promise<void> {
  try {
    const current = await api.get(listing.id);
    if (!current) {
      message('error', `“${listing.title}” no longer exists; search will drop it shortly.`);
      return;
    }
    setEditing(current);
    show(formMessage, null);
    listingForm.scrollIntoView({ block: 'nearest' });
  } catch (failure) {
    message('error', describe(toApiError(failure)));
  }
}

/** A ConflictError: the write changed nothing; offer the latest version (a consistent read). */
function conflict(listing: Listing, action: 'saved' | 'deleted'): void {
  const reload = el('button', { type: 'button', id: 'load-latest' }, 'Load latest version');
  reload.addEventListener('click', () => void startEdit(listing));
  message(
    'conflict',
    `Not ${action}: someone changed “${listing.title}” after you loaded version ${listing.version}. ` +
      'Load the latest version, then try again. ',
    reload,
  );
}

/** Just before a write: forget older signals; the write's start time if its signal can be awaited. */
function writeStarts(): number | null {
  signals.box.reset();
  return signals.ready ? performance.now() : null;
}

async function save(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const editing = state.editing;
  const button = byId<HTMLButtonElement>('save');
  button.disabled = true;
  show(formMessage, null); // a new attempt: never leave the last outcome standing
  try {
    const fields = readListing(listingForm);
    const signalSince = writeStarts();
    const saved = editing
      ? await api.update(editing.id, editing.version, fields)
      : await api.create(fields);
    setEditing(editing ? saved : null);
    message('ok', editing ? `Saved version ${saved.version}.` : `Created “${saved.title}”.`);
    void trackSearch({ kind: 'version', listing: saved }, signalSince);
  } catch (failure) {
    if (failure instanceof FormError) message('error', failure.message);
    else {
      const error = toApiError(failure);
      if (error.errorType === 'ConflictError' && editing) conflict(editing, 'saved');
      else message('error', describe(error));
    }
  } finally {
    button.disabled = false;
  }
}

async function remove(listing: Listing): Promise<void> {
  if (!window.confirm(`Delete “${listing.title}”?`)) return;
  show(formMessage, null);
  try {
    // Versions only grow: expect the newest one the page knows (the card's, or the editor's if it
    // loaded this listing later).
    const edited = state.editing?.id === listing.id ? state.editing.version : '0';
    const expected = BigInt(edited) > BigInt(listing.version) ? edited : listing.version;
    const signalSince = writeStarts();
    const deleted = await api.remove(listing.id, expected);
    if (state.editing?.id === listing.id) setEditing(null);
    message('ok', `Deleted “${deleted.title}”.`);
    void trackSearch({ kind: 'deleted', listing: deleted }, signalSince);
  } catch (failure) {
    const error = toApiError(failure);
    if (error.errorType === 'ConflictError') conflict(listing, 'deleted');
    else message('error', describe(error));
  }
}

const reviewsPanel = byId('reviews-panel');
const reviewForm = byId<HTMLFormElement>('review-form');
const reviewMessage = byId('review-message');

function renderReviews(): void {
  const current = state.reviewing;
  reviewsPanel.hidden = current === null;
  if (!current) return;
  const identities = state.user?.identities ?? [];
  reviewsPanel.dataset.listing = current.listing.id;
  byId('reviews-title').textContent = `Reviews of “${current.listing.title}”`;
  byId('review-list').replaceChildren(
    ...current.items.map((review) =>
      reviewItem(review, mayDeleteReview(review, current.listing, identities), (r) => void deleteReview(r)),
    ),
  );
  byId('reviews-summary').textContent = current.items.length === 0 ? 'No reviews yet.' : `Showing ${current.items.length}`;
  byId('more-reviews').hidden = current.nextToken === null;
  reviewForm.hidden = state.user === null;
  byId('review-hint').hidden = state.user !== null;
}

/** The listing's first page of reviews, from a consistent read (getListing). */
async function openReviews(id: string): Promise<void> {
  const run = ++state.reviewsRun;
  show(byId('reviews-error'), null);
  show(reviewMessage, null);
  try {
    const found = await api.reviews(id, REVIEW_PAGE_SIZE);
    if (run !== state.reviewsRun) return;
    if (!found) {
      state.reviewing = null;
      renderReviews();
      message('error', 'That listing no longer exists; search will drop it shortly.');
      return;
    }
    state.reviewing = { listing: found.listing, items: found.page.items, nextToken: found.page.nextToken };
    renderReviews();
    reviewsPanel.scrollIntoView({ block: 'nearest' });
  } catch (failure) {
    if (run === state.reviewsRun) show(byId('reviews-error'), describe(toApiError(failure)));
  } finally {
    if (run === state.reviewsRun) document.body.dataset.reviewReads = String(run); // lets tests wait
  }
}

async function moreReviews(): Promise<void> {
  const current = state.reviewing;
  if (!current?.nextToken) return;
  const run = ++state.reviewsRun;
  try {
    const found = await api.reviews(current.listing.id, REVIEW_PAGE_SIZE, current.nextToken);
    if (run !== state.reviewsRun || state.reviewing !== current) return;
    if (!found) {
      show(byId('reviews-error'), 'That listing no longer exists.');
      return;
    }
    state.reviewing = { listing: found.listing, items: appendPage(current.items, found.page), nextToken: found.page.nextToken };
    renderReviews();
  } catch (failure) {
    if (run === state.reviewsRun) show(byId('reviews-error'), describe(toApiError(failure)));
  } finally {
    if (run === state.reviewsRun) document.body.dataset.reviewReads = String(run);
  }
}

function reviewOutcome(kind: 'ok' | 'error', text: string, errorType?: string): void {
  reviewMessage.className = `message ${kind}`;
  reviewMessage.dataset.kind = kind;
  reviewMessage.dataset.errorType = errorType ?? ''; // lets tests tell an AlreadyExistsError apart
  show(reviewMessage, text);
}

async function addReview(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const current = state.reviewing;
  if (!current) return;
  const submit = byId<HTMLButtonElement>('add-review');
  submit.disabled = true;
  show(reviewMessage, null);
  try {
    const { rating, text } = readReview(reviewForm);
    const added = await api.addReview(current.listing.id, rating, text);
    reviewForm.reset();
    await openReviews(current.listing.id); // the review in its place among the others, from a consistent read
    reviewOutcome('ok', `Thanks: your review (${added.rating} of 5) is saved.`);
  } catch (failure) {
    if (failure instanceof ReviewFormError) reviewOutcome('error', failure.message);
    else {
      const error = toApiError(failure);
      reviewOutcome('error', reviewErrorText(error) ?? describe(error), error.errorType);
    }
  } finally {
    submit.disabled = false;
  }
}

async function deleteReview(review: Review): Promise<void> {
  if (!window.confirm(`Delete the review by ${review.author}?`)) return;
  show(reviewMessage, null);
  try {
    await api.deleteReview(review);
    await openReviews(review.listingId);
    reviewOutcome('ok', `Deleted the review by ${review.author}.`);
  } catch (failure) {
    const error = toApiError(failure);
    reviewOutcome('error', reviewErrorText(error) ?? describe(error), error.errorType);
  }
}

function renderUser(auth: Authenticator): void {
  const signedIn = state.user !== null;
  byId('signin').hidden = signedIn;
  byId('signedin').hidden = !signedIn;
  byId('me').textContent = state.user?.username ?? '';
  byId('editor-hint').hidden = signedIn;
  renderReviews(); // delete buttons and the review form follow the user
  for (const control of Array.from(listingForm.elements) as HTMLInputElement[]) control.disabled = !signedIn;
  const select = byId<HTMLSelectElement>('signin-user');
  select.hidden = auth.kind !== 'local';
  input('signin-username').hidden = auth.kind !== 'cognito';
  input('signin-password').hidden = auth.kind !== 'cognito';
  if (auth.kind === 'local' && select.options.length === 0) {
    select.replaceChildren(...auth.knownUsers.map((name) => el('option', { value: name }, name)));
  }
}

function wire(auth: Authenticator): void {
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void runSearch();
  });
  byId('sort').addEventListener('change', () => void runSearch());
  byId('more').addEventListener('click', () => void runSearch(true));
  byId('clear').addEventListener('click', () => {
    searchForm.reset();
    state.categories.clear();
    void runSearch();
  });
  listingForm.addEventListener('submit', (event) => void save(event));
  reviewForm.addEventListener('submit', (event) => void addReview(event));
  byId('more-reviews').addEventListener('click', () => void moreReviews());
  byId('close-reviews').addEventListener('click', () => {
    state.reviewing = null;
    renderReviews();
  });
  byId('cancel-edit').addEventListener('click', () => {
    setEditing(null);
    show(formMessage, null);
  });
  byId('signin').addEventListener('submit', (event) => {
    event.preventDefault();
    const username = auth.kind === 'local' ? byId<HTMLSelectElement>('signin-user').value : input('signin-username').value;
    auth
      .signIn(username, input('signin-password').value)
      .then((user) => {
        state.user = user;
        show(byId('page-error'), null);
        renderUser(auth);
        void runSearch(); // now with the user's token: own listings get their buttons
        startSignals();
        startLive(); // the user's own token from now on
      })
      .catch((failure: unknown) => show(byId('page-error'), `Sign-in failed: ${String(failure)}`));
  });
  byId('signout').addEventListener('click', () => {
    void auth.signOut().then(() => {
      state.user = null;
      startSignals(); // signed out: stops them
      setEditing(null);
      renderUser(auth);
      void runSearch();
      if (hasApiKey) startLive();
      else {
        live.stop?.();
        setLive('off', 'Sign in for live updates.');
      }
    });
  });
}

const category = listingForm.elements.namedItem('category') as HTMLSelectElement;
category.replaceChildren(...CATEGORIES.map((name) => el('option', { value: name }, name)));

async function start(): Promise<void> {
  const config = await loadConfig();
  const authenticator = configureAmplify(config);
  hasApiKey = config.auth.api_key !== null;
  catchUpSeconds = config.search_catch_up_s ?? catchUpSeconds;
  api = new Api(() => (state.user ? 'userPool' : 'apiKey'));
  byId('stack').textContent = `${config.local_users ? 'local stack' : 'AWS'} · ${config.graphql_url}`;
  wire(authenticator);
  state.user = await authenticator.current().catch(() => null);
  renderUser(authenticator);
  setEditing(null);
  // Amplify reports its socket's state on the Hub: Connected once the server acknowledged.
  Hub.listen('api', ({ payload }) => {
    // CONTROL_MSG.SUBSCRIPTION_ACK of @aws-amplify/api-graphql (not re-exported by aws-amplify/api):
    // AppSync acknowledged one subscription's start.
    if (payload.event === 'Subscription ack') {
      const { query } = payload.data as { query?: string };
      if (signals.stop !== null && query?.includes('onListingProjected')) {
        signals.ready = true;
        document.body.dataset.signal = 'on';
      }
      return;
    }
    if (payload.event !== CONNECTION_STATE_CHANGE) return;
    const { connectionState } = payload.data as { connectionState: ConnectionState };
    if (connectionState === ConnectionState.Connected) {
      setLive('on', 'Live: changes anyone makes appear here as they happen.');
    } else if (connectionState === ConnectionState.ConnectionDisrupted) {
      setLive('off', 'Live updates interrupted; reconnecting…');
      signals.ready = false;
      document.body.dataset.signal = 'off';
    }
  });
  await runSearch();
  if (state.user) startSignals();
  if (state.user || hasApiKey) startLive();
  document.body.dataset.ready = 'true';
}

start().catch((failure: unknown) => {
  show(byId('page-error'), failure instanceof ApiError ? describe(failure) : String(failure));
});
