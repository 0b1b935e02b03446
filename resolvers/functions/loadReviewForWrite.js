/**
 * Reads the review a delete targets (commands data source, consistent read) and checks it exists
 * (NotFoundError). Leaves it in `ctx.stash.current`; authorizeReviewDelete then decides who may delete it
 * and checks the version.
 *
 * A review's id is `<listingId>.<author>` (docs/design.md §1): listing ids never hold a `.`, so the first
 * one splits it into the key. An id that does not start with the input's listing names no review of it.
 */
import { util } from '@aws-appsync/utils';

const VERSION = '^[1-9][0-9]{0,15}$';

export function request(ctx) {
  const { listingId, id, expectedVersion } = ctx.args.input;
  if (!util.matches(VERSION, expectedVersion) || Number(expectedVersion) > 9007199254740991) {
    util.error('expectedVersion must be a version string as returned by the API', 'ValidationError', null, {
      problems: ['expectedVersion must be a version string as returned by the API'],
    });
  }
  const prefix = `${listingId}.`;
  if (!id.startsWith(prefix) || id.length === prefix.length) {
    util.error(`Review ${id} does not exist`, 'NotFoundError', null, { id });
  }
  return {
    operation: 'GetItem',
    key: util.dynamodb.toMapValues({ pk: `LISTING#${listingId}`, sk: `REVIEW#${id.slice(prefix.length)}` }),
    consistentRead: true,
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const { id } = ctx.args.input;
  const current = ctx.result;
  if (!current) {
    util.error(`Review ${id} does not exist`, 'NotFoundError', null, { id });
  }
  ctx.stash.current = current;
  return current;
}
