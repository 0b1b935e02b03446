/**
 * searchListings: one `_search` on the listings read alias (search data source), which hides tombstones
 * (docs/design.md §4). The alias comes from terraform/definitions/indices.json as
 * ctx.env.LISTINGS_READ_ALIAS (set by the api module, and by the local endpoint).
 *
 * User text only ever becomes the `query` value of a multi_match (never parsed query DSL). Pages use
 * `search_after` on the sort values of the last hit, which always end with the `id` tiebreaker, so paging
 * never repeats or skips a hit; `nextToken` wraps them (and the sort they belong to) in opaque base64 and
 * is validated on the way back in.
 */
import { util } from '@aws-appsync/utils';

const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 20;
const MAX_QUERY_LENGTH = 200;
const PRICE_RANGES = [{ to: 100 }, { from: 100, to: 500 }, { from: 500, to: 1000 }, { from: 1000, to: 5000 }, { from: 5000 }];
const TOKEN_CHARS = '^[A-Za-z0-9+/=]{1,1024}$';
const TOKEN_SHAPE = '^(RELEVANCE|PRICE_ASC|PRICE_DESC|NEWEST|DISTANCE)\\|-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?\\|[A-Za-z0-9_-]{1,64}$';

function invalid(message) {
  util.error(message, 'ValidationError', null, { problems: [message] });
}

function sortClauses(sort, near) {
  const tiebreaker = { id: { order: 'asc' } };
  if (sort === 'PRICE_ASC') {
    return [{ price: { order: 'asc' } }, tiebreaker];
  }
  if (sort === 'PRICE_DESC') {
    return [{ price: { order: 'desc' } }, tiebreaker];
  }
  if (sort === 'NEWEST') {
    return [{ createdAt: { order: 'desc' } }, tiebreaker];
  }
  if (sort === 'DISTANCE') {
    const point = { lat: near.lat, lon: near.lon };
    return [{ _geo_distance: { location: point, order: 'asc', unit: 'km' } }, tiebreaker];
  }
  return [{ _score: { order: 'desc' } }, tiebreaker];
}

function filters(filter, near) {
  const clauses = [];
  const f = filter || {};
  if (f.categories && f.categories.length > 0) {
    clauses.push({ terms: { category: f.categories } });
  }
  if (f.statuses && f.statuses.length > 0) {
    clauses.push({ terms: { status: f.statuses } });
  }
  // Every listed tag must be present.
  (f.tags || []).forEach((tag) => clauses.push({ term: { tags: tag } }));
  if (f.owner) {
    clauses.push({ term: { owner: f.owner } });
  }
  if (f.city) {
    clauses.push({ term: { city: f.city } });
  }
  const price = {};
  if (f.minPrice !== undefined && f.minPrice !== null) {
    price.gte = f.minPrice;
  }
  if (f.maxPrice !== undefined && f.maxPrice !== null) {
    price.lte = f.maxPrice;
  }
  if (Object.keys(price).length > 0) {
    clauses.push({ range: { price } });
  }
  if (near) {
    clauses.push({ geo_distance: { distance: `${near.radiusKm}km`, location: { lat: near.lat, lon: near.lon } } });
  }
  return clauses;
}

function validate(args, sort) {
  const limit = args.limit === undefined || args.limit === null ? DEFAULT_LIMIT : args.limit;
  if (limit < 1 || limit > MAX_LIMIT) {
    invalid(`limit must be from 1 to ${MAX_LIMIT} (got ${limit})`);
  }
  if (args.query && args.query.length > MAX_QUERY_LENGTH) {
    invalid(`query must be at most ${MAX_QUERY_LENGTH} characters`);
  }
  const near = args.near;
  if (near && (near.lat < -90 || near.lat > 90 || near.lon < -180 || near.lon > 180)) {
    invalid('near must have lat in [-90, 90] and lon in [-180, 180]');
  }
  if (near && (near.radiusKm <= 0 || near.radiusKm > 20000)) {
    invalid('near.radiusKm must be above 0 and at most 20000');
  }
  if (sort === 'DISTANCE' && !near) {
    invalid('sort DISTANCE needs `near`');
  }
  const f = args.filter || {};
  // Bounded lists keep every search request small, whatever a client sends.
  if ((f.tags || []).length > 20 || (f.categories || []).length > 6 || (f.statuses || []).length > 3) {
    invalid('filter lists are limited to 20 tags, 6 categories and 3 statuses');
  }
  if ((f.tags || []).some((tag) => tag.length > 40) || (f.owner || '').length > 128 || (f.city || '').length > 100) {
    invalid('filter values are limited to 40 characters per tag, 128 for owner and 100 for city');
  }
  if (f.minPrice !== undefined && f.minPrice !== null && f.maxPrice !== undefined && f.maxPrice !== null) {
    if (f.minPrice > f.maxPrice) {
      invalid('filter.minPrice must not exceed filter.maxPrice');
    }
  }
  return limit;
}

function decodeToken(token, sort) {
  if (!util.matches(TOKEN_CHARS, token)) {
    invalid('nextToken is not a token this API returned');
  }
  const decoded = util.base64Decode(token);
  if (!util.matches(TOKEN_SHAPE, decoded)) {
    invalid('nextToken is not a token this API returned');
  }
  const parts = decoded.split('|');
  if (parts[0] !== sort) {
    invalid(`nextToken belongs to a search sorted by ${parts[0]}, not ${sort}`);
  }
  // The shape admits exponents, so `1e999` passes it and parses to Infinity, which OpenSearch would
  // refuse (a 400 that is the caller's doing, not an outage).
  const value = Number(parts[1]);
  if (!Number.isFinite(value)) {
    invalid('nextToken is not a token this API returned');
  }
  return [value, parts[2]];
}

function encodeToken(sort, values) {
  return util.base64Encode(`${sort}|${values[0]}|${values[1]}`);
}

export function request(ctx) {
  const args = ctx.args;
  const text = args.query ? args.query.trim() : '';
  const sort = args.sort || (text ? 'RELEVANCE' : 'NEWEST');
  const limit = validate(args, sort);
  ctx.stash.search = { sort, limit, near: args.near || null };
  const must = text
    ? [{ multi_match: { query: text, fields: ['title^3', 'description', 'tags', 'city'], operator: 'and' } }]
    : [{ match_all: {} }];
  const body = {
    size: limit + 1,
    query: { bool: { must, filter: filters(args.filter, args.near) } },
    sort: sortClauses(sort, args.near),
    aggs: {
      categories: { terms: { field: 'category', size: 10 } },
      priceRanges: { range: { field: 'price', ranges: PRICE_RANGES } },
    },
  };
  if (args.nextToken) {
    body.search_after = decodeToken(args.nextToken, sort);
  }
  return { operation: 'GET', path: `/${ctx.env.LISTINGS_READ_ALIAS}/_search`, params: { body } };
}

function distanceKm(near, location) {
  const rad = Math.PI / 180;
  const dLat = (location.lat - near.lat) * rad;
  const dLon = (location.lon - near.lon) * rad;
  const a =
    Math.sin(dLat / 2) * Math.sin(dLat / 2) +
    Math.cos(near.lat * rad) * Math.cos(location.lat * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
  return 6371.0088 * 2 * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a));
}

export function response(ctx) {
  if (ctx.error) {
    // Typed and generic: OpenSearch's message can quote the query, index names or the domain's ARN, and
    // none of that is the caller's business. AppSync's log (field level ERROR) keeps the details.
    util.error('Search is unavailable; try again later', 'SearchUnavailableError');
  }
  const { sort, limit, near } = ctx.stash.search;
  const hits = ctx.result.hits.hits;
  const page = hits.slice(0, limit);
  const items = page.map((hit) => ({
    ...hit._source,
    version: `${hit._source.version}`,
    reviews: null,
    distanceKm: near ? distanceKm(near, hit._source.location) : null,
  }));
  const last = page.length > 0 ? page[page.length - 1] : null;
  const nextToken = hits.length > limit && last ? encodeToken(sort, last.sort) : null;
  const aggs = ctx.result.aggregations;
  return {
    items,
    total: ctx.result.hits.total.value,
    nextToken,
    facets: {
      categories: aggs.categories.buckets.map((b) => ({ key: b.key, count: b.doc_count })),
      priceRanges: aggs.priceRanges.buckets.map((b) => ({
        from: b.from === undefined ? null : b.from,
        to: b.to === undefined ? null : b.to,
        count: b.doc_count,
      })),
    },
  };
}
