// The reports tab: the box-office report (GET /v1/reports/box-office) for a range of show
// dates, by day and by movie as bar charts of net revenue, per show as a table; and how far
// each projector is behind the log (GET /v1/projections), asked again every 5 s.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../ui';
import { dayLabel, dateTime, money } from '../format';
import { locale, t } from '../i18n';
import { api, datesBetween, notFound, today, useGet, type City } from './lib';
import { ColumnChart, RowChart, type Bar } from './charts';
import { Failure, Field, Loading } from './widgets';

type Measures = {
  currency: string;
  shows: number;
  capacity: number;
  tickets_sold: number;
  tickets_refunded: number;
  tickets_net: number;
  tickets_checked_in: number;
  gross_minor: number;
  discounts_minor: number;
  refunds_minor: number;
  fees_minor: number;
  net_revenue_minor: number;
  occupancy: string | null;
  average_price_minor: number | null;
};
type DayRow = Measures & { day: string };
type MovieRow = Measures & { movie_id: string; movie_title: string };
type ShowRow = MovieRow & { city_id: string; city_name: string; show_id: string; starts_at: string; hall_id: string; cancelled: boolean };
type Report<R> = { group_by: string[]; from: string; to: string; rows: R[]; totals: Measures[]; next_cursor: string | null; position: string };

const REPORT = '/v1/reports/box-office';
const LAG_SECONDS = 5;

const cash = (amount: number | null | undefined, currency: string) =>
  amount === null || amount === undefined ? '' : money({ amount_minor: amount, currency });

/** "0.4167" as "41.7%" (a ratio to read, not money). */
function percent(ratio: string | null): string {
  if (ratio === null) return '–';
  return `${(Number(ratio) * 100).toFixed(1)}%`;
}

export function ReportsTab() {
  const [from, setFrom] = useState(today(undefined, -30));
  const [to, setTo] = useState(today(undefined, 7));
  const [range, setRange] = useState({ from, to });
  const [currency, setCurrency] = useState('');
  const [version, setVersion] = useState(0);
  const base = `${REPORT}?from=${range.from}&to=${range.to}`;
  const days = useGet<Report<DayRow>>(`${base}&group_by=day&page_size=1000`, version);
  const movies = useGet<Report<MovieRow>>(`${base}&group_by=movie&sort=-net_revenue_minor&page_size=1000`, version);

  const currencies = days.data?.totals.map((m) => m.currency) ?? [];
  const chosen = currencies.includes(currency) ? currency : (currencies.find((c) => c === 'CNY') ?? currencies[0] ?? 'CNY');
  const format = (v: number) => cash(v, chosen);

  const submit = (e: Event) => {
    e.preventDefault();
    setRange({ from, to });
    setVersion((v) => v + 1);
  };

  const dayRows = new Map((days.data?.rows ?? []).filter((r) => r.currency === chosen).map((r) => [r.day, r]));
  const dayBars: Bar[] = datesBetween(range.from, range.to).map((day) => {
    const row = dayRows.get(day);
    const value = row?.net_revenue_minor ?? 0;
    return {
      key: day,
      label: day.slice(5).replace('-', '/'),
      value,
      title: `${dayLabel(day, locale())}: ${format(value)} · ${t('admin.reports.tickets', { n: row?.tickets_net ?? 0 })}`,
    };
  });
  const movieBars: Bar[] = (movies.data?.rows ?? [])
    .filter((r) => r.currency === chosen)
    .slice(0, 12)
    .map((r) => ({
      key: r.movie_id,
      label: r.movie_title,
      value: r.net_revenue_minor,
      title: `${r.movie_title}: ${format(r.net_revenue_minor)} · ${t('admin.reports.tickets', { n: r.tickets_net })}`,
    }));
  const totals = days.data?.totals.find((m) => m.currency === chosen);

  return html`<section data-testid="tab-reports">
    <form class="card row" onSubmit=${submit} data-testid="reports-form">
      <${Field} label=${t('admin.reports.from')}>
        <input type="date" required value=${from} onInput=${(e: Event) => setFrom((e.currentTarget as HTMLInputElement).value)} data-testid="reports-from" />
      <//>
      <${Field} label=${t('admin.reports.to')}>
        <input type="date" required value=${to} onInput=${(e: Event) => setTo((e.currentTarget as HTMLInputElement).value)} data-testid="reports-to" />
      <//>
      ${currencies.length > 1 &&
      html`<${Field} label=${t('admin.reports.currency')}>
        <select value=${chosen} onChange=${(e: Event) => setCurrency((e.currentTarget as HTMLSelectElement).value)}>
          ${currencies.map((c) => html`<option value=${c}>${c}</option>`)}
        </select>
      <//>`}
      <button class="primary" data-testid="reports-submit">${t('admin.reports.show')}</button>
    </form>
    <${Failure} error=${days.error ?? movies.error} testid="reports-error" />
    <${Loading} when=${days.loading && !days.data} />
    ${totals &&
    html`<div class="stats" data-testid="reports-totals">
      <div><span>${t('admin.reports.net')}</span><strong>${format(totals.net_revenue_minor)}</strong></div>
      <div><span>${t('admin.reports.gross')}</span><strong>${format(totals.gross_minor)}</strong></div>
      <div><span>${t('admin.reports.refunds')}</span><strong>${format(totals.refunds_minor)}</strong></div>
      <div><span>${t('admin.reports.tickets_net')}</span><strong>${totals.tickets_net}</strong></div>
      <div><span>${t('admin.reports.shows')}</span><strong>${totals.shows}</strong></div>
      <div><span>${t('admin.reports.occupancy')}</span><strong>${percent(totals.occupancy)}</strong></div>
    </div>`}
    <div class="columns">
      <div class="card">
        <h2>${t('admin.reports.by_day')}</h2>
        ${days.data && html`<${ColumnChart} bars=${dayBars} label=${t('admin.reports.by_day')} format=${format} testid="chart-day" />`}
      </div>
      <div class="card">
        <h2>${t('admin.reports.by_movie')}</h2>
        ${movies.data &&
        (movieBars.length
          ? html`<${RowChart} bars=${movieBars} label=${t('admin.reports.by_movie')} format=${format} testid="chart-movie" />`
          : html`<p class="muted" data-testid="chart-movie-empty">${t('admin.reports.nothing')}</p>`)}
      </div>
    </div>
    <${ShowTable} range=${range} version=${version} currency=${chosen} />
    <${ProjectionLag} />
  </section>`;
}

/** The per-show table, a page of 100 at a time (by start), each start on its city's clock. */
function ShowTable({ range, version, currency }: { range: { from: string; to: string }; version: number; currency: string }) {
  const [rows, setRows] = useState<ShowRow[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const path = `${REPORT}?group_by=city,movie,show&sort=show&from=${range.from}&to=${range.to}&page_size=100`;
  const cities = useGet<City[]>('/v1/cities', version);
  const zoneOf = (cityId: string) => cities.data?.find((c) => c.city_id === cityId)?.time_zone;

  const load = async (cursor: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const page = await api.get<Report<ShowRow>>(cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path);
      setRows((before) => (cursor ? [...before, ...page.rows] : page.rows));
      setNext(page.next_cursor);
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    setRows([]);
    void load(null);
  }, [path, version]);

  const shown = rows.filter((r) => r.currency === currency);
  return html`<div class="card" data-testid="reports-shows">
    <h2>${t('admin.reports.by_show')}</h2>
    <${Failure} error=${error} />
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th>${t('admin.reports.col.title')}</th>
            <th>${t('admin.reports.col.start')}</th>
            <th class="num">${t('admin.reports.col.sold')}</th>
            <th class="num">${t('admin.reports.col.occupancy')}</th>
            <th class="num">${t('admin.reports.col.gross')}</th>
            <th class="num">${t('admin.reports.col.refunds')}</th>
            <th class="num">${t('admin.reports.col.net')}</th>
          </tr>
        </thead>
        <tbody>
          ${shown.map(
            (r) => html`<tr key=${`${r.show_id}-${r.currency}`} data-testid="report-show-row" data-show-id=${r.show_id}>
              <td>${r.movie_title}${r.cancelled ? html` <span class="badge full">${t('admin.cancelled')}</span>` : null}</td>
              <td>${dateTime(r.starts_at, zoneOf(r.city_id), locale())}</td>
              <td class="num">${r.tickets_sold}</td>
              <td class="num">${percent(r.occupancy)}</td>
              <td class="num">${cash(r.gross_minor, r.currency)}</td>
              <td class="num">${cash(r.refunds_minor, r.currency)}</td>
              <td class="num">${cash(r.net_revenue_minor, r.currency)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${!loading && shown.length === 0 && !error && html`<p class="muted">${t('admin.reports.nothing')}</p>`}
    <${Loading} when=${loading} />
    ${next && !loading && html`<button type="button" onClick=${() => load(next)} data-testid="reports-more">${t('admin.reports.more')}</button>`}
  </div>`;
}

type Projector = {
  projector: string;
  position: string;
  events_applied: number;
  updated_at: string;
  lag_events: number;
  lag_seconds: number;
};

/** Every projector's lag, asked again every 5 s while the tab is open. */
function ProjectionLag() {
  const [projectors, setProjectors] = useState<Projector[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState(false);
  const [asked, setAsked] = useState<Date | null>(null);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = async () => {
      try {
        const answer = await api.get<{ projectors: Projector[] }>('/v1/projections');
        if (!live) return;
        setProjectors(answer.projectors);
        setError(null);
        setMissing(false);
        setAsked(new Date());
      } catch (failure) {
        if (!live) return;
        if (notFound(failure)) setMissing(true);
        else setError(failure);
      }
      if (live) timer = setTimeout(ask, LAG_SECONDS * 1000);
    };
    void ask();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, []);

  return html`<div class="card" data-testid="projection-lag">
    <h2>${t('admin.lag.title')}</h2>
    ${missing && html`<p class="muted">${t('admin.lag.missing')}</p>`}
    <${Failure} error=${error} />
    ${projectors &&
    html`<div class="scroll">
        <table>
          <thead>
            <tr>
              <th>${t('admin.lag.projector')}</th>
              <th class="num">${t('admin.lag.behind_events')}</th>
              <th class="num">${t('admin.lag.behind_seconds')}</th>
              <th class="num">${t('admin.lag.applied')}</th>
              <th>${t('admin.lag.updated')}</th>
            </tr>
          </thead>
          <tbody>
            ${projectors.map(
              (p) => html`<tr key=${p.projector} class=${p.lag_events > 0 ? 'lagging' : ''} data-testid="lag-row">
                <td title=${`${t('admin.lag.position')}: ${p.position}`}>${p.projector}</td>
                <td class="num">${p.lag_events}</td>
                <td class="num">${p.lag_seconds.toFixed(1)}</td>
                <td class="num">${p.events_applied}</td>
                <td>${new Date(p.updated_at).toLocaleTimeString(locale())}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <p class="muted">${t('admin.lag.asked', { time: asked ? asked.toLocaleTimeString(locale()) : '', seconds: LAG_SECONDS })}</p>`}
  </div>`;
}
