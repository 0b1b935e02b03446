// The API as the page uses it: GraphQL documents for schema/schema.graphql, sent with Amplify's
// generateClient, and AppSync's typed errors (errorType) turned into one ApiError class.
import { generateClient } from 'aws-amplify/api';

export type Category = 'APARTMENT' | 'HOUSE' | 'ROOM' | 'STUDIO' | 'OFFICE' | 'LAND';
export type ListingStatus = 'ACTIVE' | 'PAUSED' | 'SOLD';
export type SearchSort = 'RELEVANCE' | 'PRICE_ASC' | 'PRICE_DESC' | 'NEWEST' | 'DISTANCE';
export const CATEGORIES: Category[] = ['APARTMENT', 'HOUSE', 'ROOM', 'STUDIO', 'OFFICE', 'LAND'];

export interface GeoPoint {
  lat: number;
  lon: number;
}

export interface Listing {
  id: string;
  title: string;
  description: string | null;
  category: Category;
  tags: string[];
  price: number;
  currency: string;
  location: GeoPoint;
  city: string;
  owner: string;
  status: ListingStatus;
  createdAt: string;
  updatedAt: string;
  version: string;
  distanceKm?: number | null;
}

export interface Review {
  id: string;
  listingId: string;
  rating: number;
  text: string;
  author: string;
  createdAt: string;
  version: string;
}

/** One page of `Listing.reviews(limit, nextToken)`; `nextToken` null on the last page. */
export interface ReviewPage {
  items: Review[];
  nextToken: string | null;
}

export interface ListingFields {
  title: string;
  description: string;
  category: Category;
  tags: string[];
  price: number;
  currency: string;
  location: GeoPoint;
  city: string;
  status: ListingStatus;
}

export interface ListingFilter {
  categories?: Category[];
  minPrice?: number;
  maxPrice?: number;
  owner?: string;
}

export interface SearchInput {
  query?: string;
  filter?: ListingFilter;
  near?: { lat: number; lon: number; radiusKm: number };
  sort?: SearchSort;
  limit?: number;
  nextToken?: string | null;
}

export interface SearchResult {
  items: Listing[];
  total: number;
  nextToken: string | null;
  facets: {
    categories: { key: string; count: number }[];
    priceRanges: { from: number | null; to: number | null; count: number }[];
  };
}

const LISTING_FIELDS = `id title description category tags price currency location { lat lon } city owner
  status createdAt updatedAt version`;

const SEARCH = `query Search($query: String, $filter: ListingFilter, $near: GeoRadiusInput, $sort: SearchSort,
    $limit: Int, $nextToken: String) {
  searchListings(query: $query, filter: $filter, near: $near, sort: $sort, limit: $limit, nextToken: $nextToken) {
    items { ${LISTING_FIELDS} distanceKm }
    total
    nextToken
    facets { categories { key count } priceRanges { from to count } }
  }
}`;

// Mutations select LISTING_FIELDS too: a subscriber receives only the fields the mutation selected.
const ON_CHANGED = `subscription OnListingChanged { onListingChanged { ${LISTING_FIELDS} } }`;
// The projection signal: the user's own listings only (the server refuses another owner's).
const ON_PROJECTED = `subscription OnListingProjected($owner: String) {
  onListingProjected(owner: $owner) { id owner version deleted projectedAt }
}`;
const GET = `query Get($id: ID!) { getListing(id: $id) { ${LISTING_FIELDS} } }`;
const CREATE = `mutation Create($input: CreateListingInput!) { createListing(input: $input) { ${LISTING_FIELDS} } }`;
const UPDATE = `mutation Update($input: UpdateListingInput!) { updateListing(input: $input) { ${LISTING_FIELDS} } }`;
const DELETE = `mutation Delete($input: DeleteListingInput!) { deleteListing(input: $input) { ${LISTING_FIELDS} } }`;

// Reviews are a field of the listing, paged (schema/schema.graphql `Listing.reviews`): getListing reads the
// listing and one page of its reviews; the next page is the same query with the page's nextToken.
const REVIEW_FIELDS = 'id listingId rating text author createdAt version';
const REVIEWS = `query Reviews($id: ID!, $limit: Int, $nextToken: String) {
  getListing(id: $id) { ${LISTING_FIELDS} reviews(limit: $limit, nextToken: $nextToken) { items { ${REVIEW_FIELDS} } nextToken } }
}`;
const ADD_REVIEW = `mutation AddReview($input: AddReviewInput!) { addReview(input: $input) { ${REVIEW_FIELDS} } }`;
const DELETE_REVIEW = `mutation DeleteReview($input: DeleteReviewInput!) { deleteReview(input: $input) { ${REVIEW_FIELDS} } }`;

/** An API failure with AppSync's errorType (ConflictError, ValidationError, ...) or NetworkError. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

interface GraphQLErrorLike {
  message?: string;
  errorType?: string;
  /** Set by Amplify when the request itself failed, e.g. `{name: 'NetworkError'}`. */
  originalError?: { name?: string; message?: string } | null;
}

/**
 * Amplify rejects with the whole GraphQL result when it has errors (AppSync's `errorType` on each),
 * wraps a failed request as such a result with the cause in `originalError`, and throws plain Errors
 * for client-side problems such as a missing sign-in.
 */
export function toApiError(failure: unknown): ApiError {
  if (failure instanceof ApiError) return failure;
  const errors = (failure as { errors?: GraphQLErrorLike[] } | null)?.errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const first = errors[0] ?? {};
    const type = first.errorType ?? first.originalError?.name ?? 'GraphQLError';
    return new ApiError(type, first.originalError?.message ?? first.message ?? 'request failed');
  }
  if (failure instanceof Error) return new ApiError(failure.name, failure.message);
  return new ApiError('Error', String(failure));
}

type AuthMode = 'apiKey' | 'userPool';
// The slice of Amplify's client used here; its full generic types (built for Gen 2 data models) are far
// heavier than untyped documents need.
interface Client {
  graphql(options: { query: string; variables: Record<string, unknown>; authMode?: AuthMode }): Promise<unknown>;
}

/** onListingProjected: search holds this listing at `version` (for a delete, the version deleted). */
export interface ProjectionSignal {
  id: string;
  owner: string;
  version: string;
  deleted: boolean;
  projectedAt: string;
}

// What Amplify returns for a subscription document: an Observable of AppSync's `data` messages.
interface Subscribable {
  subscribe(observer: {
    next: (event: {
      data?: { onListingChanged?: Listing | null; onListingProjected?: ProjectionSignal | null };
    }) => void;
    error: (failure: unknown) => void;
  }): { unsubscribe(): void };
}

async function call<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  authMode?: AuthMode,
): Promise<T> {
  try {
    const result = (await client.graphql({ query, variables, ...(authMode ? { authMode } : {}) })) as {
      data: T;
    };
    return result.data;
  } catch (failure) {
    throw toApiError(failure);
  }
}

export class Api {
  /** Reads use the API key when signed out (if the stack has one), the user's token when signed in. */
  // Made after Amplify.configure, so the client sees the stack's endpoint.
  private readonly client = generateClient() as unknown as Client;

  constructor(private readonly readMode: () => AuthMode) {}

  async search(input: SearchInput): Promise<SearchResult> {
    const data = await call<{ searchListings: SearchResult }>(this.client, SEARCH, { ...input }, this.readMode());
    return data.searchListings;
  }

  /** Every listing change any client makes (`onListingChanged` over AppSync's WebSocket); returns the
   * function that stops it. `onError` is called once if the socket cannot open or the server refuses. */
  watch(onChange: (listing: Listing) => void, onError: (error: ApiError) => void): () => void {
    const request = { query: ON_CHANGED, variables: {}, authMode: this.readMode() };
    const observable = this.client.graphql(request) as unknown as Subscribable;
    const subscription = observable.subscribe({
      next: (event) => {
        const listing = event.data?.onListingChanged;
        if (listing) onChange(listing);
      },
      error: (failure) => onError(toApiError(failure)),
    });
    return () => subscription.unsubscribe();
  }

  /** The user's own projection signals (`onListingProjected(owner: sub)`); returns the function that
   * stops them. `onError` is called once if the socket cannot open or the server refuses. */
  watchProjected(
    owner: string,
    onSignal: (signal: ProjectionSignal) => void,
    onError: (error: ApiError) => void,
  ): () => void {
    const request = { query: ON_PROJECTED, variables: { owner }, authMode: 'userPool' as const };
    const observable = this.client.graphql(request) as unknown as Subscribable;
    const subscription = observable.subscribe({
      next: (event) => {
        const signal = event.data?.onListingProjected;
        if (signal) onSignal(signal);
      },
      error: (failure) => onError(toApiError(failure)),
    });
    return () => subscription.unsubscribe();
  }

  async get(id: string): Promise<Listing | null> {
    return (await call<{ getListing: Listing | null }>(this.client, GET, { id }, this.readMode())).getListing;
  }

  /** The listing (a consistent read) with one page of its reviews; null when the listing does not exist. */
  async reviews(
    id: string,
    limit: number,
    nextToken: string | null = null,
  ): Promise<{ listing: Listing; page: ReviewPage } | null> {
    const variables = { id, limit, ...(nextToken ? { nextToken } : {}) };
    const data = await call<{ getListing: (Listing & { reviews: ReviewPage | null }) | null }>(
      this.client,
      REVIEWS,
      variables,
      this.readMode(),
    );
    if (!data.getListing) return null;
    const { reviews, ...listing } = data.getListing;
    return { listing, page: reviews ?? { items: [], nextToken: null } };
  }

  /** One review per author per listing: a second one is an AlreadyExistsError. */
  async addReview(listingId: string, rating: number, text: string): Promise<Review> {
    const input = { listingId, rating, text };
    return (await call<{ addReview: Review }>(this.client, ADD_REVIEW, { input }, 'userPool')).addReview;
  }

  /** The review's author or the listing's owner may delete it. */
  async deleteReview(review: Review): Promise<Review> {
    const input = { listingId: review.listingId, id: review.id, expectedVersion: review.version };
    return (await call<{ deleteReview: Review }>(this.client, DELETE_REVIEW, { input }, 'userPool')).deleteReview;
  }

  async create(fields: ListingFields): Promise<Listing> {
    return (await call<{ createListing: Listing }>(this.client, CREATE, { input: fields }, 'userPool')).createListing;
  }

  async update(id: string, expectedVersion: string, fields: ListingFields): Promise<Listing> {
    const input = { id, expectedVersion, ...fields };
    return (await call<{ updateListing: Listing }>(this.client, UPDATE, { input }, 'userPool')).updateListing;
  }

  async remove(id: string, expectedVersion: string): Promise<Listing> {
    const input = { id, expectedVersion };
    return (await call<{ deleteListing: Listing }>(this.client, DELETE, { input }, 'userPool')).deleteListing;
  }
}
