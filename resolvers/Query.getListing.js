/**
 * getListing: one consistent Query on `pk = LISTING#<id>` (queries data source) returns the listing and
 * its reviews together (docs/design.md §1). A missing listing is null.
 */
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  return {
    operation: 'Query',
    query: {
      expression: 'pk = :pk',
      expressionValues: util.dynamodb.toMapValues({ ':pk': `LISTING#${ctx.args.id}` }),
    },
    consistentRead: true,
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const items = ctx.result.items;
  const listing = items.find((item) => item.sk === 'LISTING');
  if (!listing) {
    return null;
  }
  const reviews = items
    .filter((item) => item.type === 'Review')
    .map((review) => ({ ...review, version: `${review.version}` }));
  return { ...listing, version: `${listing.version}`, reviews, distanceKm: null };
}
