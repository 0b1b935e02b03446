/**
 * listingsByOwner: one owner's listings, newest first, from the GSI `byOwner` (queries data source;
 * docs/design.md §1: `OWNER#<owner>` / `LISTING#<createdAt>#<id>`). GSI reads are eventually consistent.
 * `nextToken` is DynamoDB's own (through AppSync); one that DynamoDB refuses is a ValidationError.
 */
import { util } from '@aws-appsync/utils';

const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 20;

export function request(ctx) {
  const { owner, nextToken } = ctx.args;
  const limit = ctx.args.limit === undefined || ctx.args.limit === null ? DEFAULT_LIMIT : ctx.args.limit;
  const problems = [];
  if (limit < 1 || limit > MAX_LIMIT) {
    problems.push(`limit must be from 1 to ${MAX_LIMIT} (got ${limit})`);
  }
  if (owner.length < 1 || owner.length > 128) {
    problems.push('owner must be 1-128 characters');
  }
  if (problems.length > 0) {
    util.error(`Invalid listingsByOwner arguments: ${problems.join('; ')}`, 'ValidationError', null, { problems });
  }
  const request = {
    operation: 'Query',
    index: 'byOwner',
    query: {
      expression: 'gsi1pk = :owner',
      expressionValues: util.dynamodb.toMapValues({ ':owner': `OWNER#${owner}` }),
    },
    scanIndexForward: false,
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
    items: ctx.result.items.map((item) => ({ ...item, version: `${item.version}`, reviews: null, distanceKm: null })),
    nextToken: ctx.result.nextToken || null,
  };
}
