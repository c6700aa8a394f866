// What the dashboard's tabs share: the API client under the dashboard's own session key, the
// catalogue's shapes, money typed in as yuan turned into minor units without floats, a wall
// clock time in a city's zone turned into an instant, and the hall layout generator.
import { useEffect, useState } from 'preact/hooks';
import { Api, Problem, type Money } from '../api';
import { describe, t } from '../i18n';
import { localDate } from '../format';

export const api = new Api('boxoffice.admin.session');

export type City = { city_id: string; name: string; time_zone: string };
export type Cinema = {
  cinema_id: string;
  city_id: string;
  name: string;
  address: string;
  latitude: number;
  longitude: number;
  postal_code: string;
};
export type LayoutRow = { label: string; cells: string };
export type Layout = { rows: LayoutRow[] };
export type Hall = {
  hall_id: string;
  name: string;
  capacity: number;
  retired: boolean;
  layout: Layout;
  prices: Record<string, Money>;
};
export type CinemaDetail = Cinema & { retired: boolean; halls: Hall[] };
export type Movie = {
  movie_id: string;
  title: string;
  original_title: string | null;
  duration_minutes?: number;
  retired?: boolean;
};
export type Changed = { id: string; position: string };

export const DEFAULT_ZONE = 'Asia/Shanghai';
export const CURRENCY = 'CNY';

/** Roles as the dashboard reads them: `staff:{cinema}` is staff of some cinemas. */
export function isStaff(): boolean {
  const roles = api.account?.roles ?? [];
  return roles.some((r) => r === 'staff' || r === 'admin' || r.startsWith('staff:'));
}

export function isAnalyst(): boolean {
  const roles = api.account?.roles ?? [];
  return roles.some((r) => r === 'analyst' || r === 'staff' || r === 'admin');
}

/** A problem in words, the fields a 422 names included. */
export function explain(error: unknown): string {
  let text = describe(error);
  if (error instanceof Problem && error.code === 'validation_failed') {
    const errors = error.body.errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const fields = errors
        .map((e) => {
          const item = e as { field?: unknown; message?: unknown };
          return `${String(item.field ?? '')}: ${String(item.message ?? '')}`;
        })
        .filter((line) => !text.includes(line));
      if (fields.length > 0) text += ` (${fields.join('; ')})`;
    }
  }
  return text;
}

/**
 * Yuan typed by a person ("45", "45.5", "1,280.00") as integer fen: the digits are put
 * together as a string and read as an integer, never through a float. `null` when the text
 * is not an amount with at most two decimals.
 */
export function parseMinor(text: string, exponent = 2): number | null {
  const clean = text.trim().replace(/[,\s]/g, '').replace(/^¥/, '');
  const match = /^(\d{1,10})(?:\.(\d*))?$/.exec(clean) ?? /^()\.(\d+)$/.exec(clean);
  if (!match) return null;
  const whole = match[1] || '0';
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) return null;
  const digits = (whole + fraction.padEnd(exponent, '0')).replace(/^0+(?=\d)/, '');
  const minor = Number.parseInt(digits, 10);
  return Number.isSafeInteger(minor) ? minor : null;
}

export function yuan(amount: number): Money {
  return { amount_minor: amount, currency: CURRENCY };
}

/** The zone's offset from UTC, in minutes, at the instant `at` (ms). */
function offsetMinutes(zone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - at) / 60_000);
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * `date` (YYYY-MM-DD) at `time` (HH:MM) on the clocks of `zone`, as an RFC 3339 instant
 * with that zone's offset then (`2026-12-08T14:00:00+08:00`).
 */
export function zonedInstant(date: string, time: string, zone: string): string {
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let offset = offsetMinutes(zone, wall);
  // The offset at the wall time read as UTC may differ from the offset at the instant itself
  // (near a daylight-saving change): ask again at the instant.
  offset = offsetMinutes(zone, wall - offset * 60_000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${date}T${pad(hh)}:${pad(mm)}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export function today(zone?: string, daysAhead = 0): string {
  return localDate(zone, daysAhead);
}

/** Every date from `from` to `to` (YYYY-MM-DD, both included), at most 400. */
export function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let at = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (Number.isNaN(at) || Number.isNaN(end)) return out;
  while (at <= end && out.length < 400) {
    out.push(new Date(at).toISOString().slice(0, 10));
    at += 86_400_000;
  }
  return out;
}

/** Row labels A..Z, then AA, AB, ... */
export function rowLabel(index: number): string {
  let n = index;
  let label = '';
  do {
    label = String.fromCharCode(65 + (n % 26)) + label;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return label;
}

/** "3, 9" as [3, 9]; "C-E, H" as row labels. */
export function numberList(text: string): number[] {
  return text
    .split(/[,，\s]+/)
    .map((s) => Number.parseInt(s, 10))
    .filter((n) => Number.isInteger(n) && n > 0);
}

export function labelList(text: string): Set<string> {
  const out = new Set<string>();
  for (const part of text.toUpperCase().split(/[,，\s]+/)) {
    const range = /^([A-Z]+)-([A-Z]+)$/.exec(part);
    if (range && range[1].length === 1 && range[2].length === 1) {
      for (let c = range[1].charCodeAt(0); c <= range[2].charCodeAt(0); c++) out.add(String.fromCharCode(c));
    } else if (part) out.add(part);
  }
  return out;
}

/** A rectangular hall: `rows` rows of `seats` seats, an aisle after the seats named in
 * `aisles`, premium seats in the rows named in `premium`. */
export function generateLayout(rows: number, seats: number, aisles: number[], premium: Set<string>): Layout {
  const out: LayoutRow[] = [];
  for (let r = 0; r < rows; r++) {
    const label = rowLabel(r);
    const seat = premium.has(label) ? 'P' : 'R';
    let cells = '';
    for (let s = 1; s <= seats; s++) {
      cells += seat;
      if (aisles.includes(s) && s < seats) cells += '_';
    }
    out.push({ label, cells });
  }
  return { rows: out };
}

/** A layout as text for the textarea: one row a line. */
export function formatLayout(layout: Layout): string {
  const rows = layout.rows.map((r) => `  ${JSON.stringify({ label: r.label, cells: r.cells })}`);
  return `{"rows": [\n${rows.join(',\n')}\n]}`;
}

export const CATEGORY_OF: Record<string, string> = { R: 'regular', P: 'premium', W: 'accessible', C: 'accessible' };

/** The layout typed in the textarea, or why it is not one. */
export function readLayout(text: string): { layout: Layout; categories: string[]; seats: number } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: t('admin.hall.layout_not_json') };
  }
  const rows = (value as { rows?: unknown })?.rows;
  if (!Array.isArray(rows) || rows.length === 0) return { error: t('admin.hall.layout_no_rows') };
  const categories = new Set<string>();
  let seats = 0;
  for (const row of rows) {
    const { label, cells } = (row ?? {}) as { label?: unknown; cells?: unknown };
    if (typeof label !== 'string' || typeof cells !== 'string' || !/^[RPWC_]+$/.test(cells)) {
      return { error: t('admin.hall.layout_bad_row', { row: String(label ?? '?') }) };
    }
    for (const cell of cells) {
      const category = CATEGORY_OF[cell];
      if (category) {
        categories.add(category);
        seats += 1;
      }
    }
  }
  const order = ['regular', 'premium', 'accessible'];
  return {
    layout: { rows: rows as LayoutRow[] },
    categories: order.filter((c) => categories.has(c)),
    seats,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asks `probe` (a read model) until it says yes, for up to about 6 s: a creation is in the
 * log at once but in the lists a moment later. */
export async function until(probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 30; i++) {
    try {
      if (await probe()) return;
    } catch {
      /* asked again */
    }
    await sleep(200);
  }
}

/** What a GET answers, its failure, and whether it is under way; asked again whenever
 * `path` changes (null: nothing to ask). */
export function useGet<T>(path: string | null, version = 0): { data: T | null; error: unknown; loading: boolean } {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({
    data: null,
    error: null,
    loading: path !== null,
  });
  useEffect(() => {
    if (path === null) {
      setState({ data: null, error: null, loading: false });
      return;
    }
    const abort = new AbortController();
    setState((s) => ({ data: s.data, error: null, loading: true }));
    api.get<T>(path, { signal: abort.signal }).then(
      (data) => setState({ data, error: null, loading: false }),
      (error: unknown) => {
        if ((error as Error).name !== 'AbortError') setState({ data: null, error, loading: false });
      },
    );
    return () => abort.abort();
  }, [path, version]);
  return state;
}

/** Movies made from this browser, kept for a server without `GET /v1/movies`. */
const MOVIES_KEY = 'boxoffice.admin.movies';

export function rememberMovie(movie: Movie): void {
  const known = rememberedMovies().filter((m) => m.movie_id !== movie.movie_id);
  known.push(movie);
  localStorage.setItem(MOVIES_KEY, JSON.stringify(known.slice(-200)));
}

export function rememberedMovies(): Movie[] {
  try {
    const raw = localStorage.getItem(MOVIES_KEY);
    return raw ? (JSON.parse(raw) as Movie[]) : [];
  } catch {
    return [];
  }
}

export function notFound(error: unknown): boolean {
  return error instanceof Problem && (error.status === 404 || error.status === 405);
}
