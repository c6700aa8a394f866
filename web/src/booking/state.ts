// What the booking pages share: the API client, the city list, the chosen city (kept), the
// hash route, and the hold in progress per show (kept across the trip to the provider).
import { Api, Money } from '../api';

export const api = new Api('boxoffice.session');

export type City = { city_id: string; name: string; time_zone: string };
export type Route = { path: string[]; query: URLSearchParams };

/** `#/show/ID?x=1` as `{ path: ['show', 'ID'], query }`. */
export function route(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

let cities: Promise<City[]> | null = null;
export function loadCities(): Promise<City[]> {
  cities ??= api.get<City[]>('/v1/cities').catch(() => {
    cities = null;
    return [];
  });
  return cities;
}

const CITY_KEY = 'boxoffice.city';
export function cityChoice(): string {
  return localStorage.getItem(CITY_KEY) ?? '';
}
export function setCityChoice(id: string): void {
  localStorage.setItem(CITY_KEY, id);
}

export type Hold = {
  hold_id: string;
  show_id: string;
  seats: string[];
  expires_at: string;
  total: Money;
  discount?: Money | null;
};

const holdKey = (showId: string) => `boxoffice.hold.${showId}`;
export function keptHold(showId: string): Hold | null {
  try {
    return JSON.parse(localStorage.getItem(holdKey(showId)) ?? 'null') as Hold | null;
  } catch {
    return null;
  }
}
export function keepHold(showId: string, hold: Hold | null): void {
  if (hold) localStorage.setItem(holdKey(showId), JSON.stringify(hold));
  else localStorage.removeItem(holdKey(showId));
}

export type Category = { category: string; price: Money; status: 'available' | 'almost_full' | 'full' };

/** The best of the categories' statuses: what a showtime button says. */
export function availability(categories: Category[]): Category['status'] {
  if (categories.some((c) => c.status === 'available')) return 'available';
  if (categories.some((c) => c.status === 'almost_full')) return 'almost_full';
  return 'full';
}

export function cheapest(categories: Category[]): Money | null {
  return categories.reduce<Money | null>((best, c) => (!best || c.price.amount_minor < best.amount_minor ? c.price : best), null);
}

export function zoneOf(cities: City[], cityId: string | undefined): string | undefined {
  return cities.find((c) => c.city_id === cityId)?.time_zone;
}
