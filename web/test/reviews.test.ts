// The reviews panel's pure logic: paging, who sees a delete button, what a failed review write says.
import { describe, expect, test } from 'vitest';
import { type Listing, type Review, toApiError } from '../src/api';
import { appendPage, mayDeleteReview, reviewErrorText } from '../src/reviews';

const listing = { id: 'l1', owner: 'alice-sub' } as Listing;
const review = (author: string, version = '1'): Review => ({
  id: `l1.${author}`,
  listingId: 'l1',
  rating: 4,
  text: 'Nice',
  author,
  createdAt: '2026-01-01T00:00:00Z',
  version,
});

describe('appendPage', () => {
  test('the next page goes after the shown reviews, without repeating one already shown', () => {
    const shown = [review('ann'), review('bob')];
    const next = appendPage(shown, { items: [review('bob'), review('cy')], nextToken: null });
    expect(next.map((r) => r.author)).toEqual(['ann', 'bob', 'cy']);
    expect(shown).toHaveLength(2); // the shown list is not changed in place
  });
});

describe('mayDeleteReview', () => {
  test("the listing's owner may delete any review of it, under any of the owner's identities", () => {
    expect(mayDeleteReview(review('bob'), listing, ['alice', 'alice-sub'])).toBe(true);
  });

  test('an author may delete their own review; anyone else may not', () => {
    expect(mayDeleteReview(review('bob'), listing, ['bob'])).toBe(true);
    expect(mayDeleteReview(review('bob'), listing, ['cy'])).toBe(false);
    expect(mayDeleteReview(review('bob'), listing, [])).toBe(false); // signed out
  });
});

describe('reviewErrorText', () => {
  test('a second review by the same user says so plainly', () => {
    const error = toApiError({
      data: null,
      errors: [{ errorType: 'AlreadyExistsError', message: 'bob already reviewed listing l1 (review l1.bob)' }],
    });
    expect(reviewErrorText(error)).toMatch(/already reviewed this listing: one review per user and listing/);
  });

  test("the API's validation message is shown; other errors are left to the page's general text", () => {
    const invalid = toApiError({ errors: [{ errorType: 'ValidationError', message: 'rating must be 1-5' }] });
    expect(reviewErrorText(invalid)).toBe('Not saved: rating must be 1-5');
    expect(reviewErrorText(toApiError({ errors: [{ errorType: 'UnauthorizedError', message: 'no' }] }))).toBeNull();
  });
});
