// Rendering of search results and facets; no state here.
import type { Listing, Review, SearchResult } from './api';
import { CATEGORIES } from './api';
import { el } from './dom';

const money = (price: number, currency: string): string => {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(price);
  } catch {
    return `${price} ${currency}`; // an unknown currency code
  }
};

export interface CardActions {
  mine: (listing: Listing) => boolean;
  edit: (listing: Listing) => void;
  remove: (listing: Listing) => void;
  reviews: (listing: Listing) => void;
}

export function card(listing: Listing, actions: CardActions): HTMLLIElement {
  const meta = [listing.city, listing.category.toLowerCase(), listing.status.toLowerCase()];
  if (listing.distanceKm != null) meta.push(`${listing.distanceKm.toFixed(1)} km away`);
  const buttons = actions.mine(listing)
    ? el(
        'div',
        { class: 'actions' },
        button('Edit', 'edit', () => actions.edit(listing)),
        button('Delete', 'delete danger', () => actions.remove(listing)),
      )
    : null;
  const reviews = button('Reviews', 'link show-reviews', () => actions.reviews(listing));
  return el(
    'li',
    {
      class: 'card',
      'data-id': listing.id,
      'data-version': listing.version,
      'data-price': String(listing.price),
      'data-category': listing.category,
      'data-city': listing.city,
      'data-distance': listing.distanceKm == null ? '' : String(listing.distanceKm),
    },
    el(
      'div',
      { class: 'card-head' },
      el('h3', {}, listing.title),
      el('span', { class: 'price' }, money(listing.price, listing.currency)),
    ),
    el('p', { class: 'muted' }, meta.join(' · ')),
    listing.description ? el('p', { class: 'description' }, listing.description) : null,
    el('p', { class: 'tags' }, ...listing.tags.map((tag) => el('span', { class: 'tag' }, tag))),
    el(
      'p',
      { class: 'muted small' },
      `by ${actions.mine(listing) ? 'you' : listing.owner} · version ${listing.version} · updated ${new Date(listing.updatedAt).toLocaleString()}`,
    ),
    reviews,
    buttons,
  );
}

/** One review; a delete button when the user may delete it (its author, or the listing's owner). */
export function reviewItem(review: Review, canDelete: boolean, onDelete: (review: Review) => void): HTMLLIElement {
  const stars = '★'.repeat(review.rating) + '☆'.repeat(Math.max(0, 5 - review.rating));
  return el(
    'li',
    { class: 'review', 'data-review': review.id, 'data-author': review.author, 'data-version': review.version },
    el('p', {}, el('span', { class: 'stars', title: `${review.rating} of 5` }, stars), ` ${review.text}`),
    el('p', { class: 'muted small' }, `by ${review.author} · ${new Date(review.createdAt).toLocaleDateString()}`),
    canDelete ? button('Delete review', 'delete-review danger link', () => onDelete(review)) : null,
  );
}

function button(label: string, className: string, onClick: () => void): HTMLButtonElement {
  const node = el('button', { type: 'button', class: className }, label);
  node.addEventListener('click', onClick);
  return node;
}

/** Category checkboxes with the counts of the current search (categories absent from it show 0). */
export function categoryFacets(
  facets: SearchResult['facets'] | null,
  selected: Set<string>,
  onToggle: (category: string, checked: boolean) => void,
): HTMLElement[] {
  const counts = new Map(facets?.categories.map((bucket) => [bucket.key, bucket.count]) ?? []);
  return CATEGORIES.map((category) => {
    const box = el('input', { type: 'checkbox', value: category, 'data-facet': 'category' });
    box.checked = selected.has(category);
    box.addEventListener('change', () => onToggle(category, box.checked));
    const count = counts.get(category) ?? 0;
    return el(
      'label',
      { class: count === 0 && !box.checked ? 'facet empty' : 'facet' },
      box,
      ` ${category.toLowerCase()} `,
      el('span', { class: 'count' }, String(count)),
    );
  });
}

export function priceLabel(from: number | null, to: number | null): string {
  if (from === null && to !== null) return `under ${to}`;
  if (from !== null && to === null) return `${from} and up`;
  return `${from} – ${to}`;
}

/** Price-range buckets as buttons; choosing one fills the min/max fields. */
export function priceFacets(
  facets: SearchResult['facets'] | null,
  onChoose: (from: number | null, to: number | null) => void,
): HTMLElement[] {
  return (facets?.priceRanges ?? []).map((bucket) => {
    const node = el(
      'button',
      { type: 'button', class: 'facet price-range', 'data-facet': 'price' },
      `${priceLabel(bucket.from, bucket.to)} `,
      el('span', { class: 'count' }, String(bucket.count)),
    );
    node.disabled = bucket.count === 0;
    node.addEventListener('click', () => onChoose(bucket.from, bucket.to));
    return node;
  });
}
