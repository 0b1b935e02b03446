/**
 * Reads the keys of the reviews a listing delete takes with it at once (commands data source): one
 * consistent Query on the listing's partition, `sk` beginning with `REVIEW#`, keys only, at most 99.
 * deleteListingItem deletes them in the listing's own transaction (at most 100 items: the listing + 99).
 *
 * A listing with more reviews is still deleted: the rest are deleted by the review cascade, a separate
 * consumer of the table's stream (projector/cascade.py), when the listing's REMOVE record arrives. APPSYNC_JS
 * cannot loop over requests, so the command path cannot page through them itself (resolvers/README.md).
 */
import { util } from '@aws-appsync/utils';

const MAX_REVIEWS = 99;

export function request(ctx) {
  const { current } = ctx.stash;
  return {
    operation: 'Query',
    query: {
      expression: '#pk = :pk AND begins_with(#sk, :review)',
      expressionNames: { '#pk': 'pk', '#sk': 'sk' },
      expressionValues: util.dynamodb.toMapValues({ ':pk': current.pk, ':review': 'REVIEW#' }),
    },
    projection: { expression: '#pk, #sk', expressionNames: { '#pk': 'pk', '#sk': 'sk' } },
    consistentRead: true,
    limit: MAX_REVIEWS,
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const keys = ctx.result.items.map((item) => ({ pk: item.pk, sk: item.sk }));
  ctx.stash.reviewKeys = keys;
  return keys;
}
