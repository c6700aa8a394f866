// The schedule tab: a movie in a hall at a local date and time (the cinema's city's clock),
// optionally at other prices than the hall's; the day's schedule of the cinema beside it.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../ui';
import { locale, t } from '../i18n';
import { dateTime, decimal, time } from '../format';
import { Problem, type Money } from '../api';
import {
  api,
  DEFAULT_ZONE,
  notFound,
  parseMinor,
  rememberedMovies,
  today,
  useGet,
  zonedInstant,
  type City,
  type CinemaDetail,
  type Movie,
} from './lib';
import { Choice, Failure, Field, Loading, VenuePicker, type Venue } from './widgets';
import { Outcome, useSubmit } from './catalogue';

export type DayShow = {
  show_id: string;
  movie_id: string;
  title: string;
  starts_at: string;
  ends_at: string;
  cancelled: boolean;
  on_sale: boolean;
};
export type CinemaDay = { cinema_id: string; date: string; halls: { hall: { hall_id: string; name: string }; shows: DayShow[] }[] };

type Hit = { movie: Movie };

/** The catalogue's movies (`GET /v1/movies`); on a server without that list, the movies made
 * from this browser and those with shows to come. */
function useMovies(keyword: string, version: number): { movies: Movie[]; fallback: boolean; error: unknown } {
  const [state, setState] = useState<{ movies: Movie[]; fallback: boolean; error: unknown }>({ movies: [], fallback: false, error: null });
  useEffect(() => {
    const abort = new AbortController();
    const query = keyword.trim() ? `?keyword=${encodeURIComponent(keyword.trim())}` : '';
    api.get<Movie[]>(`/v1/movies${query}`, { signal: abort.signal }).then(
      (movies) => setState({ movies: movies.filter((m) => !m.retired), fallback: false, error: null }),
      async (error: unknown) => {
        if ((error as Error).name === 'AbortError') return;
        if (!notFound(error)) return setState({ movies: [], fallback: false, error });
        const known = new Map(rememberedMovies().map((m) => [m.movie_id, m]));
        try {
          const search = await api.get<{ hits: Hit[] }>(`/v1/movies/search?page_size=30${query ? `&${query.slice(1)}` : ''}`, { signal: abort.signal });
          for (const hit of search.hits) known.set(hit.movie.movie_id, hit.movie);
        } catch {
          /* the movies made here are still listed */
        }
        const words = keyword.trim().toLowerCase();
        const movies = [...known.values()]
          .filter((m) => !words || `${m.title} ${m.original_title ?? ''}`.toLowerCase().includes(words))
          .sort((a, b) => a.title.localeCompare(b.title, locale()));
        setState({ movies, fallback: true, error: null });
      },
    );
    return () => abort.abort();
  }, [keyword, version]);
  return state;
}

export function ScheduleTab({ version }: { version: number }) {
  const [venue, setVenue] = useState<Venue>({ cityId: '', cinemaId: '', hallId: '' });
  const [city, setCity] = useState<City | null>(null);
  const [cinema, setCinema] = useState<CinemaDetail | null>(null);
  const zone = city?.time_zone ?? DEFAULT_ZONE;
  const [keyword, setKeyword] = useState('');
  const [movieId, setMovieId] = useState('');
  const [manualId, setManualId] = useState('');
  const [date, setDate] = useState(today(DEFAULT_ZONE, 1));
  const [at, setAt] = useState('19:00');
  const [overrides, setOverrides] = useState<Record<string, string>>({});
  const [made, setMade] = useState<{ show_id: string; position: string; starts_at: string; title: string } | null>(null);
  const { status, run, fail } = useSubmit();
  const movies = useMovies(keyword, version);
  const hall = cinema?.halls.find((h) => h.hall_id === venue.hallId) ?? null;

  // Keep the movie one of the list (the first when the list changes under it).
  useEffect(() => {
    if (movies.movies.length > 0 && !movies.movies.some((m) => m.movie_id === movieId)) setMovieId(movies.movies[0].movie_id);
  }, [movies.movies]);
  useEffect(() => setOverrides({}), [venue.hallId]);

  const day = useGet<CinemaDay>(
    venue.cinemaId && date ? `/v1/cinemas/${venue.cinemaId}/shows?date=${date}${made ? `&min_position=${made.position}` : ''}` : null,
    version,
  );

  const submit = (e: Event) => {
    e.preventDefault();
    const chosen = manualId.trim() || movieId;
    if (!venue.hallId || !hall) return fail(t('admin.schedule.pick_hall'));
    if (!chosen) return fail(t('admin.schedule.pick_movie'));
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !/^\d{2}:\d{2}$/.test(at)) return fail(t('admin.schedule.bad_time'));
    const body: Record<string, unknown> = { movie_id: chosen, hall_id: venue.hallId, starts_at: zonedInstant(date, at, zone) };
    if (Object.values(overrides).some((v) => v.trim())) {
      const prices: Record<string, Money> = {};
      for (const [category, price] of Object.entries(hall.prices)) {
        const typed = overrides[category]?.trim();
        if (!typed) {
          prices[category] = price;
          continue;
        }
        const minor = parseMinor(typed);
        if (minor === null) return fail(t('admin.bad_price', { category: categoryName(category) }));
        prices[category] = { amount_minor: minor, currency: price.currency };
      }
      body.prices = prices;
    }
    const title = movies.movies.find((m) => m.movie_id === chosen)?.title ?? chosen;
    run(async () => {
      try {
        const answer = await api.post<{ show_id: string; position: string }>('/v1/shows', body);
        setMade({ ...answer, starts_at: String(body.starts_at), title });
        return t('admin.schedule.done', { title, when: dateTime(String(body.starts_at), zone, locale()) });
      } catch (error) {
        setMade(null);
        throw error;
      }
    });
  };

  const busyHint =
    status.error instanceof Problem && status.error.code === 'show_overlaps' && status.error.body.busy_from
      ? t('admin.schedule.busy', {
          from: dateTime(String(status.error.body.busy_from), zone, locale()),
          until: time(String(status.error.body.busy_until), zone, locale()),
        })
      : null;

  return html`<section data-testid="tab-schedule">
    <div class="columns">
      <form class="card" onSubmit=${submit} data-testid="schedule-form">
        <h2>${t('admin.schedule.title')}</h2>
        <${VenuePicker}
          venue=${venue}
          setVenue=${setVenue}
          version=${version}
          depth="hall"
          prefix="schedule"
          onLoaded=${(c: City | null, d: CinemaDetail | null) => {
            setCity(c);
            setCinema(d);
          }}
        />
        <div class="row">
          <${Field} label=${t('admin.schedule.find_movie')}>
            <input type="search" value=${keyword} onInput=${(e: Event) => setKeyword((e.currentTarget as HTMLInputElement).value)} data-testid="schedule-keyword" />
          <//>
          <${Choice}
            label=${t('admin.movie')}
            testid="schedule-movie"
            value=${movieId}
            options=${movies.movies.map((m) => ({ value: m.movie_id, label: m.original_title && m.original_title !== m.title ? `${m.title} (${m.original_title})` : m.title }))}
            empty=${movies.movies.length ? undefined : t('admin.none_yet')}
            onChange=${setMovieId}
          />
        </div>
        ${movies.fallback &&
        html`<p class="notice" data-testid="movies-fallback">${t('admin.schedule.no_movie_list')}</p>
          <${Field} label=${t('admin.schedule.movie_id')}>
            <input value=${manualId} onInput=${(e: Event) => setManualId((e.currentTarget as HTMLInputElement).value)} data-testid="schedule-movie-id" />
          <//>`}
        <${Failure} error=${movies.error} />
        <div class="row">
          <${Field} label=${t('admin.schedule.date')}>
            <input type="date" required value=${date} onInput=${(e: Event) => setDate((e.currentTarget as HTMLInputElement).value)} data-testid="schedule-date" />
          <//>
          <${Field} label=${t('admin.schedule.time', { zone })}>
            <input type="time" required value=${at} onInput=${(e: Event) => setAt((e.currentTarget as HTMLInputElement).value)} data-testid="schedule-time" />
          <//>
        </div>
        ${hall &&
        html`<fieldset>
          <legend>${t('admin.schedule.prices')}</legend>
          <div class="row">
            ${orderedPrices(hall.prices).map(
              ([category, price]) => html`<${Field} label=${t('admin.price_of', { category: categoryName(category) })}>
                <input
                  inputMode="decimal"
                  placeholder=${decimal(price.amount_minor)}
                  value=${overrides[category] ?? ''}
                  onInput=${(e: Event) => setOverrides({ ...overrides, [category]: (e.currentTarget as HTMLInputElement).value })}
                  data-testid=${`schedule-price-${category}`}
                />
              <//>`,
            )}
          </div>
          <p class="muted">${t('admin.schedule.prices_hint')}</p>
        </fieldset>`}
        <button class="primary" disabled=${status.busy} data-testid="schedule-submit">${t('admin.schedule.submit')}</button>
        <${Outcome} status=${status} testid="schedule" />
        ${busyHint && html`<p class="muted">${busyHint}</p>`}
        ${status.done &&
        made &&
        html`<p class="success" data-testid="schedule-success">
          ${t('admin.schedule.show_id')} <code data-testid="schedule-show-id">${made.show_id}</code><br />
          <a href=${`/#/show/${made.show_id}`} data-testid="schedule-booking-link">${t('admin.schedule.booking_link')}</a>
        </p>`}
      </form>
      <div class="card" data-testid="schedule-day">
        <h2>${t('admin.schedule.day', { cinema: cinema?.name ?? '', date })}</h2>
        <${Loading} when=${day.loading && !day.data} />
        <${Failure} error=${day.error} />
        ${day.data && html`<${DayList} day=${day.data} zone=${zone} highlight=${venue.hallId ?? ''} />`}
      </div>
    </div>
  </section>`;
}

const ORDER = ['regular', 'premium', 'accessible'];

/** A hall's prices, regular first, then premium, accessible and any other category. */
function orderedPrices(prices: Record<string, Money>): [string, Money][] {
  const rank = (c: string) => (ORDER.includes(c) ? ORDER.indexOf(c) : ORDER.length);
  return Object.entries(prices).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

export function categoryName(category: string): string {
  const key = `admin.category.${category}`;
  const name = t(key);
  return name === key ? category : name;
}

function DayList({ day, zone, highlight }: { day: CinemaDay; zone: string; highlight: string }) {
  const halls = day.halls.filter((h) => h.shows.length > 0);
  if (halls.length === 0) return html`<p class="muted">${t('admin.schedule.day_empty')}</p>`;
  return html`${halls.map(
    (h) => html`<div key=${h.hall.hall_id} class=${h.hall.hall_id === highlight ? 'day-hall current' : 'day-hall'}>
      <h3>${h.hall.name}</h3>
      <ul class="plain">
        ${h.shows.map(
          (s) => html`<li key=${s.show_id}>
            <span class="time">${time(s.starts_at, zone, locale())}–${time(s.ends_at, zone, locale())}</span>
            ${' '}${s.title}${s.cancelled ? html` <span class="badge full">${t('admin.cancelled')}</span>` : null}
          </li>`,
        )}
      </ul>
    </div>`,
  )}`;
}
