// A movie: what it is, a favourite switch, and its showtimes in the city on a day grouped by
// cinema, each with the lowest price and how full it is.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../ui';
import { describe, locale, t } from '../i18n';
import { dayLabel, localDate, money, time } from '../format';
import { api, availability, Category, cheapest } from './state';

type Movie = { movie_id: string; title: string; original_title: string | null; description: string; duration_minutes: number; genres: string[]; language: string; rating: string | null; release_date: string };
type CinemaShows = {
  cinema: { cinema_id: string; name: string; address: string };
  shows: Array<{ show_id: string; starts_at: string; ends_at: string; hall: { name: string }; categories: Category[] }>;
};

export function MoviePage({ movieId, city, zone, query }: { movieId: string; city: string; zone?: string; query: URLSearchParams }) {
  const days = [0, 1, 2, 3, 4, 5, 6].map((d) => localDate(zone, d));
  const date = query.get('date') ?? days[0];
  const [movie, setMovie] = useState<Movie | null>(null);
  const [cinemas, setCinemas] = useState<CinemaShows[] | null>(null);
  const [favorite, setFavorite] = useState<boolean | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api.get<Movie>(`/v1/movies/${movieId}`).then(setMovie, (e) => setError(describe(e)));
    if (api.account) {
      api.get<Array<{ movie_id: string }>>('/v1/me/favorites').then((list) => setFavorite(list.some((f) => f.movie_id === movieId)), () => setFavorite(null));
    }
  }, [movieId]);
  useEffect(() => {
    if (!city) return;
    setCinemas(null);
    api.get<CinemaShows[]>(`/v1/movies/${movieId}/shows?${new URLSearchParams({ city, date })}`).then(setCinemas, (e) => setError(describe(e)));
  }, [movieId, city, date]);
  const toggleFavorite = async () => {
    try {
      if (favorite) await api.delete(`/v1/me/favorites/${movieId}`);
      else await api.put(`/v1/me/favorites/${movieId}`);
      setFavorite(!favorite);
    } catch (e) {
      setError(describe(e));
    }
  };
  return html`
    <p><a href="#/">← ${t('back')}</a></p>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${movie
      ? html`<section class="card">
          <h1>${movie.title}</h1>
          ${movie.original_title ? html`<div class="muted">${movie.original_title}</div>` : null}
          <p class="muted">${movie.genres.join(' · ')} · ${t('movie.minutes', { n: movie.duration_minutes })} · ${movie.language.toUpperCase()}${movie.rating ? ` · ${movie.rating}` : ''} · ${movie.release_date}</p>
          <p>${movie.description}</p>
          ${api.account && favorite !== null
            ? html`<button type="button" data-testid="favorite" aria-pressed=${favorite} onClick=${toggleFavorite}>${favorite ? t('movie.unfavorite') : t('movie.favorite')}</button>`
            : null}
        </section>`
      : null}
    <h2>${t('movie.showtimes')}</h2>
    <div class="tabs" role="group" aria-label=${t('home.date')}>
      ${days.map(
        (d, i) => html`<button type="button" aria-pressed=${d === date} onClick=${() => (location.hash = `#/movie/${movieId}?date=${d}`)}>
          ${i === 0 ? t('home.today') : i === 1 ? t('home.tomorrow') : dayLabel(d, locale())}
        </button>`,
      )}
    </div>
    ${cinemas === null && !error ? html`<p class="muted">${t('loading')}</p>` : null}
    ${cinemas && cinemas.length === 0 ? html`<p class="muted">${t('movie.no_shows')}</p>` : null}
    ${cinemas?.map(
      (c) => html`<section class="card" data-testid="cinema">
        <h3>${c.cinema.name}</h3>
        <div class="muted">${c.cinema.address}</div>
        <div class="showtimes" style=${{ marginTop: '.6em' }}>
          ${c.shows.map((s) => {
            const status = availability(s.categories);
            const from = cheapest(s.categories);
            return html`<a class="showtime" data-testid="showtime" href=${`#/show/${s.show_id}`}>
              <strong>${time(s.starts_at, zone, locale())}</strong>
              <span class="muted">${s.hall.name}</span>
              <span>${from ? t('movie.from', { price: money(from) }) : ''}</span>
              <span class=${`badge ${status}`}>${t(`status.${status}`)}</span>
            </a>`;
          })}
        </div>
      </section>`,
    )}
  `;
}
