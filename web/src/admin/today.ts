// The today tab: a cinema's shows of a day, hall by hall, each with how full it is (seats
// sold and held over its capacity) and a cancel button that asks first.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../ui';
import { locale, t } from '../i18n';
import { time } from '../format';
import { api, DEFAULT_ZONE, today, useGet, type City, type CinemaDetail } from './lib';
import { Failure, Field, Loading, VenuePicker, type Venue } from './widgets';
import type { CinemaDay, DayShow } from './schedule';

type ShowPage = {
  show_id: string;
  capacity: number;
  cancelled: boolean;
  on_sale: boolean;
  counts: { available: number; held: number; sold: number };
};

/** Seconds between automatic refreshes while the tab is open. */
const REFRESH_SECONDS = 20;

export function TodayTab({ version }: { version: number }) {
  const [venue, setVenue] = useState<Venue>({ cityId: '', cinemaId: '' });
  const [zone, setZone] = useState(DEFAULT_ZONE);
  const [date, setDate] = useState(today(DEFAULT_ZONE));
  const [tick, setTick] = useState(0);
  const [minPosition, setMinPosition] = useState<string | null>(null);

  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), REFRESH_SECONDS * 1000);
    return () => clearInterval(timer);
  }, []);

  const onLoaded = (city: City | null, _cinema: CinemaDetail | null) => {
    const next = city?.time_zone ?? DEFAULT_ZONE;
    if (next !== zone) {
      setZone(next);
      setDate(today(next));
    }
  };

  const query = minPosition ? `&min_position=${encodeURIComponent(minPosition)}` : '';
  const day = useGet<CinemaDay>(venue.cinemaId && date ? `/v1/cinemas/${venue.cinemaId}/shows?date=${date}${query}` : null, version + tick);
  const refresh = () => setTick((n) => n + 1);
  const changed = (position: string) => {
    setMinPosition(position);
    refresh();
  };

  return html`<section data-testid="tab-today">
    <div class="card">
      <${VenuePicker} venue=${venue} setVenue=${setVenue} version=${version} prefix="today" onLoaded=${onLoaded} />
      <div class="row">
        <${Field} label=${t('admin.today.date')}>
          <input type="date" value=${date} onInput=${(e: Event) => setDate((e.currentTarget as HTMLInputElement).value)} data-testid="today-date" />
        <//>
        <button type="button" onClick=${() => setDate(today(zone))} data-testid="today-today">${t('admin.today.today')}</button>
        <button type="button" onClick=${() => setDate(today(zone, 1))} data-testid="today-tomorrow">${t('admin.today.tomorrow')}</button>
        <button type="button" onClick=${refresh} data-testid="today-refresh">${t('admin.refresh')}</button>
      </div>
      <p class="muted">${t('admin.today.zone', { zone })}</p>
    </div>
    <${Loading} when=${day.loading && !day.data} />
    <${Failure} error=${day.error} />
    ${day.data && day.data.cinema_id === venue.cinemaId && html`<${Day} day=${day.data} zone=${zone} tick=${tick} onChanged=${changed} />`}
  </section>`;
}

function Day({ day, zone, tick, onChanged }: { day: CinemaDay; zone: string; tick: number; onChanged: (position: string) => void }) {
  const halls = day.halls.filter((h) => h.shows.length > 0);
  if (halls.length === 0) return html`<p class="card muted" data-testid="today-empty">${t('admin.today.empty')}</p>`;
  return html`${halls.map(
    (h) => html`<div class="card" key=${h.hall.hall_id}>
      <h2>${h.hall.name}</h2>
      <ul class="plain shows">
        ${h.shows.map((s) => html`<${ShowRow} key=${s.show_id} show=${s} zone=${zone} tick=${tick} onChanged=${onChanged} />`)}
      </ul>
    </div>`,
  )}`;
}

function ShowRow({ show, zone, tick, onChanged }: { show: DayShow; zone: string; tick: number; onChanged: (position: string) => void }) {
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const page = useGet<ShowPage>(`/v1/shows/${show.show_id}`, tick);
  const cancelled = show.cancelled || page.data?.cancelled === true;

  const cancel = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const done = await api.post<{ show_id: string; position: string }>(`/v1/shows/${show.show_id}/cancel`, {
        reason: reason.trim() || t('admin.today.default_reason'),
      });
      setAsking(false);
      onChanged(done.position);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const counts = page.data?.counts;
  const capacity = page.data?.capacity ?? 0;
  const soldPct = counts && capacity ? (counts.sold / capacity) * 100 : 0;
  const heldPct = counts && capacity ? (counts.held / capacity) * 100 : 0;
  const occupied = counts ? counts.sold + counts.held : 0;

  return html`<li class=${cancelled ? 'show-row cancelled' : 'show-row'} data-testid="today-show" data-show-id=${show.show_id} data-cancelled=${cancelled ? 'true' : 'false'}>
    <div class="show-head">
      <strong class="time">${time(show.starts_at, zone, locale())}–${time(show.ends_at, zone, locale())}</strong>
      <span class="title">${show.title}</span>
      ${cancelled
        ? html`<span class="badge full" data-testid="show-cancelled">${t('admin.cancelled')}</span>`
        : show.on_sale
          ? html`<span class="badge available">${t('admin.today.on_sale')}</span>`
          : html`<span class="badge">${t('admin.today.not_on_sale')}</span>`}
    </div>
    <div class="occupancy">
      <div
        class="bar stacked"
        role="meter"
        aria-valuemin="0"
        aria-valuemax=${capacity}
        aria-valuenow=${occupied}
        aria-label=${t('admin.today.occupancy')}
        data-testid="occupancy-bar"
      >
        <div class="sold" style=${{ width: `${soldPct}%` }}></div>
        <div class="held" style=${{ width: `${heldPct}%` }}></div>
      </div>
      <span class="muted">
        ${counts
          ? t('admin.today.counts', { sold: counts.sold, held: counts.held, capacity, percent: capacity ? Math.round(((counts.sold + counts.held) / capacity) * 100) : 0 })
          : t('admin.loading')}
      </span>
    </div>
    <${Failure} error=${page.error} />
    ${!cancelled &&
    !asking &&
    html`<button type="button" class="danger" onClick=${() => setAsking(true)} data-testid="cancel-show">${t('admin.today.cancel')}</button>`}
    ${!cancelled &&
    asking &&
    html`<form class="confirm" onSubmit=${cancel} data-testid="cancel-confirm-form">
      <p>${t('admin.today.confirm', { title: show.title, time: time(show.starts_at, zone, locale()), sold: counts?.sold ?? 0 })}</p>
      <${Field} label=${t('admin.today.reason')}>
        <input value=${reason} placeholder=${t('admin.today.default_reason')} onInput=${(e: Event) => setReason((e.currentTarget as HTMLInputElement).value)} data-testid="cancel-reason" />
      <//>
      <div class="row">
        <button class="danger" disabled=${busy} data-testid="confirm-cancel">${t('admin.today.confirm_button')}</button>
        <button type="button" onClick=${() => setAsking(false)} data-testid="keep-show">${t('admin.today.keep')}</button>
      </div>
    </form>`}
    <${Failure} error=${error} testid="cancel-error" />
  </li>`;
}
