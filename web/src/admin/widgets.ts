// Small pieces the tabs are built of: labelled fields, selects, problems in words, and the
// city → cinema → hall pickers every tab starts with.
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { html } from '../ui';
import { t } from '../i18n';
import { explain, useGet, type Cinema, type CinemaDetail, type City } from './lib';

export function Field({ label, children, wide }: { label: string; children: ComponentChildren; wide?: boolean }) {
  return html`<label class=${wide ? 'field wide' : 'field'}><span>${label}</span>${children}</label>`;
}

type Option = { value: string; label: string };

export function Choice({
  label,
  value,
  options,
  onChange,
  testid,
  empty,
  disabled,
}: {
  label: string;
  value: string;
  options: Option[];
  onChange: (value: string) => void;
  testid: string;
  empty?: string;
  disabled?: boolean;
}) {
  return html`<${Field} label=${label}>
    <select
      data-testid=${testid}
      value=${value}
      disabled=${disabled}
      onChange=${(e: Event) => onChange((e.currentTarget as HTMLSelectElement).value)}
    >
      ${empty !== undefined && html`<option value="">${empty}</option>`}
      ${options.map((o) => html`<option key=${o.value} value=${o.value}>${o.label}</option>`)}
    </select>
  <//>`;
}

export function Failure({ error, testid = 'error' }: { error: unknown; testid?: string }) {
  if (!error) return null;
  return html`<p class="error" role="alert" data-testid=${testid}>${explain(error)}</p>`;
}

export function Loading({ when }: { when: boolean }) {
  return when ? html`<p class="muted" aria-live="polite">${t('admin.loading')}</p>` : null;
}

/** Keeps `value` one of `ids`: the first when it is not (or nothing when there is none). */
function useKept(value: string, ids: string[] | null, set: (v: string) => void) {
  const key = ids?.join() ?? '';
  useEffect(() => {
    if (ids === null) return;
    if (!ids.includes(value)) set(ids[0] ?? '');
  }, [key, value]);
}

export type Venue = {
  cityId: string;
  cinemaId: string;
  hallId?: string;
};

/** City, then (unless `depth` is city) cinema, then (with `depth` hall) hall, each kept to
 * what exists; the chosen city and cinema (with its halls) are handed to `onLoaded`. */
export function VenuePicker({
  venue,
  setVenue,
  version = 0,
  depth = 'cinema',
  prefix,
  onLoaded,
}: {
  venue: Venue;
  setVenue: (v: Venue) => void;
  version?: number;
  depth?: 'city' | 'cinema' | 'hall';
  prefix: string;
  onLoaded?: (city: City | null, cinema: CinemaDetail | null) => void;
}) {
  const withCinema = depth !== 'city';
  const withHall = depth === 'hall';
  const cities = useGet<City[]>('/v1/cities', version);
  const cinemas = useGet<Cinema[]>(withCinema && venue.cityId ? `/v1/cinemas?city=${venue.cityId}` : null, version);
  const wantDetail = withHall || onLoaded !== undefined;
  const detail = useGet<CinemaDetail>(wantDetail && venue.cinemaId ? `/v1/cinemas/${venue.cinemaId}` : null, version);
  const cinema = detail.data?.cinema_id === venue.cinemaId ? detail.data : null;
  const halls = cinema ? cinema.halls.filter((h) => !h.retired) : null;
  const cinemaList = venue.cityId && cinemas.data ? cinemas.data.filter((c) => c.city_id === venue.cityId) : null;

  useKept(venue.cityId, cities.data?.map((c) => c.city_id) ?? null, (cityId) => setVenue({ cityId, cinemaId: '', hallId: '' }));
  useKept(venue.cinemaId, withCinema ? (cinemaList?.map((c) => c.cinema_id) ?? null) : null, (cinemaId) =>
    setVenue({ ...venue, cinemaId, hallId: '' }),
  );
  useKept(venue.hallId ?? '', withHall && venue.cinemaId && halls ? halls.map((h) => h.hall_id) : null, (hallId) =>
    setVenue({ ...venue, hallId }),
  );

  const city = cities.data?.find((c) => c.city_id === venue.cityId) ?? null;
  useEffect(() => {
    onLoaded?.(city, cinema);
  }, [city, cinema]);

  return html`
    <div class="row">
      <${Choice}
        label=${t('admin.city')}
        testid=${`${prefix}-city`}
        value=${venue.cityId}
        options=${(cities.data ?? []).map((c) => ({ value: c.city_id, label: c.name }))}
        empty=${cities.data?.length ? undefined : t('admin.none_yet')}
        onChange=${(cityId: string) => setVenue({ cityId, cinemaId: '', hallId: '' })}
      />
      ${withCinema &&
      html`<${Choice}
        label=${t('admin.cinema')}
        testid=${`${prefix}-cinema`}
        value=${venue.cinemaId}
        options=${(cinemaList ?? []).map((c) => ({ value: c.cinema_id, label: c.name }))}
        empty=${cinemaList?.length ? undefined : t('admin.none_yet')}
        onChange=${(cinemaId: string) => setVenue({ ...venue, cinemaId, hallId: '' })}
      />`}
      ${withHall &&
      html`<${Choice}
        label=${t('admin.hall')}
        testid=${`${prefix}-hall`}
        value=${venue.hallId ?? ''}
        options=${(halls ?? []).map((h) => ({ value: h.hall_id, label: t('admin.hall_option', { name: h.name, seats: h.capacity }) }))}
        empty=${halls?.length ? undefined : t('admin.none_yet')}
        onChange=${(hallId: string) => setVenue({ ...venue, hallId })}
      />`}
    </div>
    <${Failure} error=${cities.error ?? cinemas.error ?? detail.error} />
  `;
}
