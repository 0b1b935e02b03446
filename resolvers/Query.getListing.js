/**
 * getListing: one consistent GetItem of `pk = LISTING#<id>`, `sk = LISTING` (queries data source). A
 * missing listing is null. Its reviews are the `Listing.reviews` field's own resolver (Listing.reviews.js),
 * a page at a time: reading the listing never reads an unbounded number of reviews.
 */
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  return {
    operation: 'GetItem',
    key: util.dynamodb.toMapValues({ pk: `LISTING#${ctx.args.id}`, sk: 'LISTING' }),
    consistentRead: true,
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const listing = ctx.result;
  if (!listing) {
    return null;
  }
  return { ...listing, version: `${listing.version}`, distanceKm: null };
}
