// The catalogue tab: a city, a cinema, a hall (its layout drawn by a generator or pasted),
// and a movie, each created through the staff API.
import { useMemo, useState } from 'preact/hooks';
import { html } from '../ui';
import { t } from '../i18n';
import { money } from '../format';
import type { Money } from '../api';
import {
  api,
  CATEGORY_OF,
  DEFAULT_ZONE,
  generateLayout,
  labelList,
  formatLayout,
  notFound,
  numberList,
  parseMinor,
  readLayout,
  rememberMovie,
  until,
  yuan,
  type Changed,
  type City,
  type Cinema,
  type Movie,
} from './lib';
import { Failure, Field, VenuePicker, type Venue } from './widgets';

type Status = { busy: boolean; error: unknown; message: string | null; done: string | null };

/** Submitting a form: busy while it runs, then its problem (from the server, or `fail`'s
 * sentence when the form itself is wrong) or what it made. */
export function useSubmit() {
  const [status, setStatus] = useState<Status>({ busy: false, error: null, message: null, done: null });
  const run = async (work: () => Promise<string>) => {
    setStatus({ busy: true, error: null, message: null, done: null });
    try {
      const done = await work();
      setStatus({ busy: false, error: null, message: null, done });
    } catch (error) {
      setStatus({ busy: false, error, message: null, done: null });
    }
  };
  const fail = (message: string) => setStatus({ busy: false, error: null, message, done: null });
  return { status, run, fail };
}

export function Outcome({ status, testid }: { status: Status; testid: string }) {
  return html`
    <${Failure} error=${status.error} testid=${`${testid}-error`} />
    ${status.message && html`<p class="error" role="alert" data-testid=${`${testid}-error`}>${status.message}</p>`}
    ${status.done && html`<p class="success" role="status" data-testid=${`${testid}-done`}>${status.done}</p>`}
  `;
}

const value = (e: Event) => (e.currentTarget as HTMLInputElement).value;

function CityForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [zone, setZone] = useState(DEFAULT_ZONE);
  const { status, run } = useSubmit();
  const submit = (e: Event) => {
    e.preventDefault();
    run(async () => {
      const made = await api.post<Changed>('/v1/cities', { name: name.trim(), time_zone: zone.trim() });
      await until(async () => (await api.get<City[]>('/v1/cities')).some((c) => c.city_id === made.id));
      onCreated();
      setName('');
      return t('admin.city.created', { name: name.trim() });
    });
  };
  return html`<form class="card" onSubmit=${submit} data-testid="city-form">
    <h2>${t('admin.city.new')}</h2>
    <div class="row">
      <${Field} label=${t('admin.name')}>
        <input required maxLength="100" value=${name} onInput=${(e: Event) => setName(value(e))} data-testid="city-name" />
      <//>
      <${Field} label=${t('admin.city.zone')}>
        <input required list="admin-zones" value=${zone} onInput=${(e: Event) => setZone(value(e))} data-testid="city-zone" />
      <//>
      <datalist id="admin-zones">
        ${['Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Macau', 'Asia/Taipei', 'Asia/Urumqi', 'Asia/Tokyo', 'Asia/Singapore', 'UTC'].map(
          (z) => html`<option value=${z} />`,
        )}
      </datalist>
      <button class="primary" disabled=${status.busy} data-testid="city-submit">${t('admin.create')}</button>
    </div>
    <${Outcome} status=${status} testid="city" />
  </form>`;
}

function CinemaForm({ version, onCreated }: { version: number; onCreated: () => void }) {
  const [venue, setVenue] = useState<Venue>({ cityId: '', cinemaId: '' });
  const [f, setF] = useState({ name: '', address: '', latitude: '', longitude: '', postal: '', policy: false, minutes: '120', fee: '10' });
  const set = (key: keyof typeof f) => (e: Event) => setF({ ...f, [key]: value(e) });
  const { status, run, fail } = useSubmit();
  const submit = (e: Event) => {
    e.preventDefault();
    const latitude = Number(f.latitude);
    const longitude = Number(f.longitude);
    if (!venue.cityId) return fail(t('admin.cinema.pick_city'));
    if (f.latitude.trim() === '' || !Number.isFinite(latitude) || Math.abs(latitude) > 90) return fail(t('admin.cinema.bad_latitude'));
    if (f.longitude.trim() === '' || !Number.isFinite(longitude) || Math.abs(longitude) > 180) return fail(t('admin.cinema.bad_longitude'));
    const body: Record<string, unknown> = {
      city_id: venue.cityId,
      name: f.name.trim(),
      address: f.address.trim(),
      latitude,
      longitude,
      postal_code: f.postal.trim(),
    };
    if (f.policy) {
      const minutes = Number.parseInt(f.minutes, 10);
      const fee = Number.parseInt(f.fee, 10);
      if (!Number.isInteger(minutes) || minutes < 0 || !Number.isInteger(fee) || fee < 0 || fee > 100) return fail(t('admin.cinema.bad_policy'));
      body.refund_policy = { full_refund_until_minutes: minutes, fee_percent: fee };
    }
    run(async () => {
      const made = await api.post<Changed>('/v1/cinemas', body);
      await until(async () => (await api.get<Cinema[]>(`/v1/cinemas?city=${venue.cityId}`)).some((c) => c.cinema_id === made.id));
      onCreated();
      return t('admin.cinema.created', { name: f.name.trim() });
    });
  };
  return html`<form class="card" onSubmit=${submit} data-testid="cinema-form">
    <h2>${t('admin.cinema.new')}</h2>
    <${VenuePicker} venue=${venue} setVenue=${setVenue} version=${version} depth="city" prefix="cinema-form" />
    <div class="grid2">
      <${Field} label=${t('admin.name')}><input required maxLength="100" value=${f.name} onInput=${set('name')} data-testid="cinema-name" /><//>
      <${Field} label=${t('admin.cinema.address')}><input required maxLength="300" value=${f.address} onInput=${set('address')} data-testid="cinema-address" /><//>
      <${Field} label=${t('admin.cinema.latitude')}><input required inputMode="decimal" placeholder="31.30" value=${f.latitude} onInput=${set('latitude')} data-testid="cinema-latitude" /><//>
      <${Field} label=${t('admin.cinema.longitude')}><input required inputMode="decimal" placeholder="121.51" value=${f.longitude} onInput=${set('longitude')} data-testid="cinema-longitude" /><//>
      <${Field} label=${t('admin.cinema.postal')}><input required maxLength="16" value=${f.postal} onInput=${set('postal')} data-testid="cinema-postal" /><//>
    </div>
    <label class="check">
      <input type="checkbox" checked=${f.policy} onChange=${(e: Event) => setF({ ...f, policy: (e.currentTarget as HTMLInputElement).checked })} data-testid="cinema-policy" />
      ${t('admin.cinema.policy')}
    </label>
    ${f.policy &&
    html`<div class="row">
      <${Field} label=${t('admin.cinema.full_until')}><input type="number" min="0" max="43200" value=${f.minutes} onInput=${set('minutes')} /><//>
      <${Field} label=${t('admin.cinema.fee')}><input type="number" min="0" max="100" value=${f.fee} onInput=${set('fee')} /><//>
    </div>`}
    <button class="primary" disabled=${status.busy} data-testid="cinema-submit">${t('admin.create')}</button>
    <${Outcome} status=${status} testid="cinema" />
  </form>`;
}

const CATEGORIES = ['regular', 'premium', 'accessible'] as const;

function HallForm({ version, onCreated }: { version: number; onCreated: () => void }) {
  const [venue, setVenue] = useState<Venue>({ cityId: '', cinemaId: '' });
  const [name, setName] = useState('');
  const [gen, setGen] = useState({ rows: '8', seats: '14', aisles: '3, 11', premium: 'E-F' });
  const initial = formatLayout(generateLayout(8, 14, [3, 11], labelList('E-F')));
  const [layoutText, setLayoutText] = useState(initial);
  const [prices, setPrices] = useState<Record<string, string>>({ regular: '45', premium: '80', accessible: '45' });
  const { status, run, fail } = useSubmit();
  const read = useMemo(() => readLayout(layoutText), [layoutText]);

  const generate = () => {
    const rows = Number.parseInt(gen.rows, 10);
    const seats = Number.parseInt(gen.seats, 10);
    if (!(rows >= 1 && rows <= 100 && seats >= 1 && seats <= 100)) return fail(t('admin.hall.bad_size'));
    setLayoutText(formatLayout(generateLayout(rows, seats, numberList(gen.aisles), labelList(gen.premium))));
  };

  const submit = (e: Event) => {
    e.preventDefault();
    if ('error' in read) return fail(read.error);
    if (!venue.cinemaId) return fail(t('admin.hall.pick_cinema'));
    const body: Record<string, Money> = {};
    for (const category of read.categories) {
      const minor = parseMinor(prices[category] ?? '');
      if (minor === null) return fail(t('admin.bad_price', { category: t(`admin.category.${category}`) }));
      body[category] = yuan(minor);
    }
    const cinemaId = venue.cinemaId;
    run(async () => {
      const made = await api.post<Changed>(`/v1/cinemas/${cinemaId}/halls`, { name: name.trim(), layout: read.layout, prices: body });
      await until(async () =>
        (await api.get<{ halls: { hall_id: string }[] }>(`/v1/cinemas/${cinemaId}`)).halls.some((h) => h.hall_id === made.id),
      );
      onCreated();
      return t('admin.hall.created', { name: name.trim(), seats: read.seats });
    });
  };

  const setG = (key: keyof typeof gen) => (e: Event) => setGen({ ...gen, [key]: value(e) });
  return html`<form class="card" onSubmit=${submit} data-testid="hall-form">
    <h2>${t('admin.hall.new')}</h2>
    <${VenuePicker} venue=${venue} setVenue=${setVenue} version=${version} prefix="hall-form" />
    <${Field} label=${t('admin.name')}><input required maxLength="100" value=${name} onInput=${(e: Event) => setName(value(e))} data-testid="hall-name" /><//>
    <fieldset>
      <legend>${t('admin.hall.generator')}</legend>
      <div class="row">
        <${Field} label=${t('admin.hall.rows')}><input type="number" min="1" max="100" value=${gen.rows} onInput=${setG('rows')} data-testid="gen-rows" /><//>
        <${Field} label=${t('admin.hall.seats')}><input type="number" min="1" max="100" value=${gen.seats} onInput=${setG('seats')} data-testid="gen-seats" /><//>
        <${Field} label=${t('admin.hall.aisles')}><input value=${gen.aisles} placeholder="3, 11" onInput=${setG('aisles')} data-testid="gen-aisles" /><//>
        <${Field} label=${t('admin.hall.premium')}><input value=${gen.premium} placeholder="E-F" onInput=${setG('premium')} data-testid="gen-premium" /><//>
        <button type="button" onClick=${generate} data-testid="gen-layout">${t('admin.hall.generate')}</button>
      </div>
    </fieldset>
    <${Field} label=${t('admin.hall.layout')} wide>
      <textarea class="layout-text" rows="8" spellcheck=${false} value=${layoutText} onInput=${(e: Event) => setLayoutText(value(e))} data-testid="hall-layout"></textarea>
    <//>
    <p class="muted">${t('admin.hall.legend')}</p>
    ${'error' in read
      ? html`<p class="error" role="alert">${read.error}</p>`
      : html`<${LayoutPreview} rows=${read.layout.rows} /><p class="muted">${t('admin.hall.count', { seats: read.seats })}</p>`}
    <div class="row">
      ${CATEGORIES.map(
        (category) => html`<${Field} label=${t('admin.price_of', { category: t(`admin.category.${category}`) })}>
          <input
            inputMode="decimal"
            value=${prices[category]}
            disabled=${!('error' in read) && !read.categories.includes(category)}
            onInput=${(e: Event) => setPrices({ ...prices, [category]: value(e) })}
            data-testid=${`hall-price-${category}`}
          />
        <//>`,
      )}
    </div>
    <button class="primary" disabled=${status.busy} data-testid="hall-submit">${t('admin.create')}</button>
    <${Outcome} status=${status} testid="hall" />
  </form>`;
}

function LayoutPreview({ rows }: { rows: { label: string; cells: string }[] }) {
  if (rows.length > 40) return null;
  return html`<div class="preview" aria-hidden="true">
    ${rows.map(
      (row) => html`<div class="preview-row" key=${row.label}>
        <span class="preview-label">${row.label}</span>
        ${[...row.cells].map((c, i) => html`<span key=${i} class=${`cell cell-${CATEGORY_OF[c] ?? 'gap'}`}></span>`)}
      </div>`,
    )}
  </div>`;
}

function MovieForm({ onCreated }: { onCreated: () => void }) {
  const empty = { title: '', original: '', description: '', duration: '120', genres: '', language: 'zh', country: 'CN', release: '', rating: '' };
  const [f, setF] = useState(empty);
  const set = (key: keyof typeof f) => (e: Event) => setF({ ...f, [key]: value(e) });
  const { status, run, fail } = useSubmit();
  const submit = (e: Event) => {
    e.preventDefault();
    const duration = Number.parseInt(f.duration, 10);
    if (!Number.isInteger(duration) || duration <= 0) return fail(t('admin.movie.bad_duration'));
    const body: Record<string, unknown> = {
      title: f.title.trim(),
      description: f.description.trim(),
      duration_minutes: duration,
      genres: f.genres
        .split(/[,，、]/)
        .map((g) => g.trim())
        .filter(Boolean),
      language: f.language.trim(),
      country: f.country.trim(),
      release_date: f.release,
    };
    if (f.original.trim()) body.original_title = f.original.trim();
    if (f.rating.trim()) body.rating = f.rating.trim();
    run(async () => {
      const made = await api.post<Changed>('/v1/movies', body);
      const movie: Movie = { movie_id: made.id, title: f.title.trim(), original_title: f.original.trim() || null, duration_minutes: duration };
      rememberMovie(movie);
      // Read our own write: the movie list waits for the position; an older server's
      // movie page is asked until it has the movie.
      await until(async () => {
        try {
          await api.get(`/v1/movies?min_position=${encodeURIComponent(made.position)}`);
        } catch (error) {
          if (!notFound(error)) throw error;
          await api.get(`/v1/movies/${made.id}`);
        }
        return true;
      });
      onCreated();
      setF(empty);
      return t('admin.movie.created', { title: movie.title });
    });
  };
  return html`<form class="card" onSubmit=${submit} data-testid="movie-form">
    <h2>${t('admin.movie.new')}</h2>
    <div class="grid2">
      <${Field} label=${t('admin.movie.title')}><input required value=${f.title} onInput=${set('title')} data-testid="movie-title" /><//>
      <${Field} label=${t('admin.movie.original')}><input value=${f.original} onInput=${set('original')} data-testid="movie-original" /><//>
      <${Field} label=${t('admin.movie.duration')}><input required type="number" min="1" max="1000" value=${f.duration} onInput=${set('duration')} data-testid="movie-duration" /><//>
      <${Field} label=${t('admin.movie.genres')}><input value=${f.genres} placeholder="sci-fi, drama" onInput=${set('genres')} data-testid="movie-genres" /><//>
      <${Field} label=${t('admin.movie.language')}><input required maxLength="8" value=${f.language} onInput=${set('language')} data-testid="movie-language" /><//>
      <${Field} label=${t('admin.movie.country')}><input required maxLength="8" value=${f.country} onInput=${set('country')} data-testid="movie-country" /><//>
      <${Field} label=${t('admin.movie.release')}><input required type="date" value=${f.release} onInput=${set('release')} data-testid="movie-release" /><//>
      <${Field} label=${t('admin.movie.rating')}><input value=${f.rating} onInput=${set('rating')} data-testid="movie-rating" /><//>
    </div>
    <${Field} label=${t('admin.movie.description')} wide>
      <textarea rows="3" required value=${f.description} onInput=${set('description')} data-testid="movie-description"></textarea>
    <//>
    <button class="primary" disabled=${status.busy} data-testid="movie-submit">${t('admin.create')}</button>
    <${Outcome} status=${status} testid="movie" />
  </form>`;
}

export function CatalogueTab({ version, bump }: { version: number; bump: () => void }) {
  return html`<section data-testid="tab-catalogue">
    <div class="columns">
      <div>
        <${CityForm} onCreated=${bump} />
        <${CinemaForm} version=${version} onCreated=${bump} />
        <${MovieForm} onCreated=${bump} />
      </div>
      <div>
        <${HallForm} version=${version} onCreated=${bump} />
      </div>
    </div>
    <p class="muted">${t('admin.catalogue.note', { example: money(yuan(4500)) })}</p>
  </section>`;
}
