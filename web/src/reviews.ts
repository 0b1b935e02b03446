// The reviews panel's pure logic: paging, who may delete a review, and what a failed review write says.
import type { ApiError, Listing, Review, ReviewPage } from './api';

/** Reviews per page (`Listing.reviews(limit)`); small, so "More reviews" is there on busy listings. */
export const REVIEW_PAGE_SIZE = 3;

/** The reviews shown so far plus the next page; a review already shown is not repeated. */
export function appendPage(shown: Review[], page: ReviewPage): Review[] {
  const seen = new Set(shown.map((review) => review.id));
  return [...shown, ...page.items.filter((review) => !seen.has(review.id))];
}

/** What the API allows (authorizeReviewDelete): the review's author, or the owner of its listing. */
export function mayDeleteReview(review: Review, listing: Listing, identities: readonly string[]): boolean {
  return identities.includes(listing.owner) || identities.includes(review.author);
}

/** A review write's failure in the user's words, or null for errors the page describes generally. */
export function reviewErrorText(error: ApiError): string | null {
  switch (error.errorType) {
    case 'AlreadyExistsError':
      return 'You have already reviewed this listing: one review per user and listing. Delete your review to write a new one.';
    case 'NotFoundError':
      return 'This listing no longer exists.';
    case 'ValidationError':
      return `Not saved: ${error.message}`;
    case 'ConflictError':
      return 'The review changed since it was loaded; reload the reviews and try again.';
    default:
      return null;
  }
}

export class ReviewFormError extends Error {
  override name = 'ReviewFormError';
}

/** Rating (an integer 1-5) and text (1-2000 characters) from the review form. */
export function readReview(form: HTMLFormElement): { rating: number; text: string } {
  const data = new FormData(form);
  const rating = Number(data.get('rating'));
  const text = String(data.get('text') ?? '').trim();
  if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw new ReviewFormError('Choose a rating from 1 to 5.');
  if (text === '') throw new ReviewFormError('Write a few words about the place.');
  return { rating, text };
}
