/**
 * Listing.reviews(limit, nextToken): one page of a listing's reviews (queries data source), a consistent
 * Query on the listing's partition, `sk` beginning with `REVIEW#` (docs/design.md §1: one review per
 * author, so pages come in author-key order). `limit` is 1-100 (default 20) whatever a client asks, so no
 * request reads more than a page; `nextToken` is DynamoDB's own (through AppSync), and one DynamoDB
 * refuses is a ValidationError.
 *
 * It resolves under every Listing (the parent's `id` is `ctx.source.id`): a listing returned by a mutation
 * or a search gets its reviews too, one Query per listing that asks for them.
 */
import { util } from '@aws-appsync/utils';

const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 20;

export function request(ctx) {
  const { nextToken } = ctx.args;
  const limit = ctx.args.limit === undefined || ctx.args.limit === null ? DEFAULT_LIMIT : ctx.args.limit;
  if (limit < 1 || limit > MAX_LIMIT) {
    const problem = `limit must be from 1 to ${MAX_LIMIT} (got ${limit})`;
    util.error(`Invalid reviews arguments: ${problem}`, 'ValidationError', null, { problems: [problem] });
  }
  const request = {
    operation: 'Query',
    query: {
      expression: '#pk = :pk AND begins_with(#sk, :review)',
      expressionNames: { '#pk': 'pk', '#sk': 'sk' },
      expressionValues: util.dynamodb.toMapValues({ ':pk': `LISTING#${ctx.source.id}`, ':review': 'REVIEW#' }),
    },
    consistentRead: true,
    limit,
  };
  if (nextToken) {
    request.nextToken = nextToken;
  }
  return request;
}

export function response(ctx) {
  if (ctx.error) {
    if (ctx.error.type === 'DynamoDB:ValidationException' && ctx.args.nextToken) {
      util.error('nextToken is not a token this API returned', 'ValidationError', null, {
        problems: ['nextToken is not a token this API returned'],
      });
    }
    util.error(ctx.error.message, ctx.error.type);
  }
  return {
    items: ctx.result.items.map((review) => ({ ...review, version: `${review.version}` })),
    nextToken: ctx.result.nextToken || null,
  };
}
