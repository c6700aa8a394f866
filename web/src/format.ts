// Money, times and dates as people read them. Money stays in minor units (integers) until
// it is written out: never a float.
import type { Money } from './api';

/** Digits after the point per ISO 4217 currency (those without minor units listed). */
const EXPONENT: Record<string, number> = { JPY: 0, KRW: 0, VND: 0, CLP: 0, ISK: 0 };

export function money(m: Money | null | undefined): string {
  if (!m) return '';
  return `${decimal(m.amount_minor, EXPONENT[m.currency] ?? 2)} ${m.currency}`;
}

export function decimal(minor: number, exponent = 2): string {
  const sign = minor < 0 ? '-' : '';
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

export function sum(items: Money[]): Money | null {
  if (items.length === 0) return null;
  return { amount_minor: items.reduce((a, m) => a + m.amount_minor, 0), currency: items[0].currency };
}

export function time(at: string, zone?: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: zone }).format(new Date(at));
}

export function dateTime(at: string, zone?: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, {
    month: 'short', day: 'numeric', weekday: 'short', hour: '2-digit', minute: '2-digit', hour12: false, timeZone: zone,
  }).format(new Date(at));
}

/** The calendar day (YYYY-MM-DD) `daysAhead` days from now in `zone`. */
export function localDate(zone: string | undefined, daysAhead = 0): string {
  const at = new Date(Date.now() + daysAhead * 86_400_000);
  const parts = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: zone }).format(at);
  return parts; // en-CA formats as YYYY-MM-DD
}

export function dayLabel(date: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', weekday: 'short', timeZone: 'UTC' }).format(
    new Date(`${date}T00:00:00Z`),
  );
}

/** mm:ss of the time left until `until` (never negative). */
export function countdown(until: number, now: number): string {
  const s = Math.max(0, Math.ceil((until - now) / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
