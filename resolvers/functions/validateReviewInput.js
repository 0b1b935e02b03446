/**
 * Validates addReview input and decides who the author is (NONE data source). Every problem is reported
 * at once in one ValidationError (`errorInfo.problems`), before anything is written.
 *
 * One review per author per listing (docs/design.md §1): the review's key is `REVIEW#<author>` and its id
 * is derived, `<listingId>.<author>`. A client may still send `id` (older clients, retries), but only that
 * id: any other would name a review the key cannot hold.
 */
import { util } from '@aws-appsync/utils';

const ID = '^[A-Za-z0-9_-]{1,64}$';
// Printable ASCII without spaces: the author is part of the key and of the document id, which must stay
// within OpenSearch's 512 bytes (64 + 1 + 128 here). Cognito subs are UUIDs.
const AUTHOR = '^[!-~]{1,128}$';

export function request(ctx) {
  const input = ctx.args.input;
  const backend = util.authType() === 'IAM Authorization';
  if (!backend && input.author && input.author !== ctx.identity.sub) {
    util.error('Only backends may add a review for another author', 'UnauthorizedError');
  }
  const problems = [];
  if (!util.matches(ID, input.listingId)) {
    problems.push('listingId must be 1-64 characters of A-Z, a-z, 0-9, _ or -');
  }
  if (input.rating < 1 || input.rating > 5) {
    problems.push(`rating must be an integer from 1 to 5 (got ${input.rating})`);
  }
  if (input.text.trim().length < 1 || input.text.length > 2000) {
    problems.push(`text must be 1-2000 characters (got ${input.text.length})`);
  }
  if (backend && !input.author) {
    problems.push('author is required when a backend (IAM) adds a review');
  }
  const author = backend ? input.author : ctx.identity.sub;
  if (author && !util.matches(AUTHOR, author)) {
    problems.push('author must be 1-128 printable ASCII characters without spaces');
  }
  const id = `${input.listingId}.${author}`;
  if (input.id !== undefined && input.id !== null && input.id !== id) {
    problems.push(`id must be absent or ${id}: one review per author per listing, its id is derived`);
  }
  if (problems.length > 0) {
    util.error(`Invalid addReview input: ${problems.join('; ')}`, 'ValidationError', null, { problems });
  }
  ctx.stash.input = input;
  ctx.stash.author = author;
  ctx.stash.reviewId = id;
  return { payload: null };
}

export function response(ctx) {
  return ctx.result;
}
