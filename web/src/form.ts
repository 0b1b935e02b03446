// The listing form: read it into API input (catching what cannot even be sent) and fill it from a listing.
// Range and length rules are the API's: its ValidationError messages are shown as they come.
import type { Category, Listing, ListingFields, ListingStatus } from './api';

export class FormError extends Error {
  override name = 'FormError';
}

function field(form: HTMLFormElement, name: string): HTMLInputElement {
  const input = form.elements.namedItem(name);
  if (!input) throw new Error(`listing form has no field "${name}"`);
  return input as HTMLInputElement;
}

function number(form: HTMLFormElement, name: string, label: string): number {
  const text = field(form, name).value.trim();
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) throw new FormError(`${label} must be a number`);
  return value;
}

export function readListing(form: HTMLFormElement): ListingFields {
  const text = (name: string): string => field(form, name).value.trim();
  return {
    title: text('title'),
    description: text('description'),
    category: text('category') as Category,
    status: text('status') as ListingStatus,
    tags: text('tags')
      .split(',')
      .map((tag) => tag.trim())
      .filter((tag) => tag !== ''),
    price: number(form, 'price', 'Price'),
    currency: text('currency').toUpperCase(),
    city: text('city'),
    location: { lat: number(form, 'lat', 'Latitude'), lon: number(form, 'lon', 'Longitude') },
  };
}

export function fillListing(form: HTMLFormElement, listing: Listing | null): void {
  const values: Record<string, string> = listing
    ? {
        title: listing.title,
        description: listing.description ?? '',
        category: listing.category,
        status: listing.status,
        tags: listing.tags.join(', '),
        price: String(listing.price),
        currency: listing.currency,
        city: listing.city,
        lat: String(listing.location.lat),
        lon: String(listing.location.lon),
      }
    : { title: '', description: '', tags: '', price: '', city: '', lat: '', lon: '', status: 'ACTIVE' };
  for (const [name, value] of Object.entries(values)) field(form, name).value = value;
}
