/**
 * Reads the keys of the reviews a listing delete takes with it (commands data source): one consistent
 * Query on the listing's partition, `sk` beginning with `REVIEW#`, keys only. deleteListingItem deletes
 * them in the listing's own transaction, so no review outlives its listing.
 *
 * A transaction holds at most 100 items (the listing + 99 reviews). The Query asks for one more than
 * that, and a listing with more reviews is refused (TooManyReviewsError) before anything is written:
 * delete some reviews first (deleteReview), then the listing.
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
    limit: MAX_REVIEWS + 1,
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const { current } = ctx.stash;
  const keys = ctx.result.items.map((item) => ({ pk: item.pk, sk: item.sk }));
  if (keys.length > MAX_REVIEWS || ctx.result.nextToken) {
    util.error(
      `Listing ${current.id} has more than ${MAX_REVIEWS} reviews, more than one transaction can delete with it: delete reviews first (deleteReview), then the listing`,
      'TooManyReviewsError',
      null,
      { id: current.id, maxReviews: MAX_REVIEWS },
    );
  }
  ctx.stash.reviewKeys = keys;
  return keys;
}
