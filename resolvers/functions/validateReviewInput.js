/**
 * Validates addReview input and decides who the author is (NONE data source). Every problem is reported
 * at once in one ValidationError (`errorInfo.problems`), before anything is written.
 */
import { util } from '@aws-appsync/utils';

const ID = '^[A-Za-z0-9_-]{1,64}$';

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
  if (input.id !== undefined && input.id !== null && !util.matches(ID, input.id)) {
    problems.push('id must be 1-64 characters of A-Z, a-z, 0-9, _ or -');
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
  if (input.author && input.author.length > 128) {
    problems.push('author must be at most 128 characters');
  }
  if (problems.length > 0) {
    util.error(`Invalid addReview input: ${problems.join('; ')}`, 'ValidationError', null, { problems });
  }
  ctx.stash.input = input;
  ctx.stash.author = backend ? input.author : ctx.identity.sub;
  return { payload: null };
}

export function response(ctx) {
  return ctx.result;
}
