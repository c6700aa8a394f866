// What is on in the chosen city on a day, narrowed by a keyword: movies with their first
// showtime and how many shows match.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../ui';
import { describe, locale, t } from '../i18n';
import { dayLabel, localDate, time } from '../format';
import { api } from './state';

type Movie = { movie_id: string; title: string; original_title: string | null; genres: string[]; duration_minutes: number; rating: string | null };
type Hit = { movie: Movie; first_show_at: string; shows_total: number };
type Search = { hits: Hit[]; next_cursor?: string | null };

export function Home({ city, zone, query }: { city: string; zone?: string; query: URLSearchParams }) {
  const days = [0, 1, 2, 3, 4, 5, 6].map((d) => localDate(zone, d));
  const date = query.get('date') ?? days[0];
  const keyword = query.get('q') ?? '';
  const [draft, setDraft] = useState(keyword);
  const [result, setResult] = useState<Search | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    if (!city) return;
    const params = new URLSearchParams({ city, date, page_size: '30' });
    if (keyword) params.set('keyword', keyword);
    setResult(null);
    setError('');
    api.get<Search>(`/v1/movies/search?${params}`).then(setResult, (e) => setError(describe(e)));
  }, [city, date, keyword]);
  const link = (d: string, q: string) => `#/?${new URLSearchParams({ date: d, ...(q ? { q } : {}) })}`;
  const dayName = (d: string, i: number) => (i === 0 ? t('home.today') : i === 1 ? t('home.tomorrow') : dayLabel(d, locale()));
  return html`
    <h1>${t('home.title')}</h1>
    <form class="row" role="search" onSubmit=${(e: Event) => { e.preventDefault(); location.hash = link(date, draft.trim()); }}>
      <label style=${{ flex: '1 1 200px' }}>
        <span>${t('home.keyword')}</span>
        <input type="search" data-testid="keyword" value=${draft} onInput=${(e: Event) => setDraft((e.target as HTMLInputElement).value)} style=${{ width: '100%' }} />
      </label>
      <button type="submit">${t('home.search')}</button>
    </form>
    <div class="tabs" role="group" aria-label=${t('home.date')} style=${{ margin: '.8em 0' }}>
      ${days.map((d, i) => html`<button type="button" aria-pressed=${d === date} data-testid=${`day-${i}`} onClick=${() => (location.hash = link(d, keyword))}>${dayName(d, i)}</button>`)}
    </div>
    ${!city ? html`<p class="muted">${t('home.pick_city')}</p>` : null}
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${city && !result && !error ? html`<p class="muted">${t('loading')}</p>` : null}
    ${result && result.hits.length === 0 ? html`<p class="muted" data-testid="no-hits">${t('home.none')}</p>` : null}
    <div class="movies">
      ${result?.hits.map(
        (hit) => html`
          <a class="card movie" data-testid="movie" href=${`#/movie/${hit.movie.movie_id}?date=${date}`}>
            <h3>${hit.movie.title}</h3>
            ${hit.movie.original_title ? html`<div class="muted">${hit.movie.original_title}</div>` : null}
            <div class="muted">${hit.movie.genres.join(' · ')} · ${t('movie.minutes', { n: hit.movie.duration_minutes })}${hit.movie.rating ? ` · ${hit.movie.rating}` : ''}</div>
            <div>${t('home.first', { time: time(hit.first_show_at, zone, locale()) })} · ${hit.shows_total === 1 ? t('home.one_show') : t('home.shows', { n: hit.shows_total })}</div>
          </a>`,
      )}
    </div>
  `;
}
