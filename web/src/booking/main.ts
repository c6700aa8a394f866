// The booking app: find a film, pick a showtime and seats on the live seat map, hold them,
// pay at the provider, find the order again to refund or change seats. A client of the
// public API only (it is the reference client for client developers: see docs/web.md).
import '../style.css';
import './messages';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from '../ui';
import { lang, onLang, setLang, t } from '../i18n';
import { api, City, loadCities, route, Route, cityChoice, setCityChoice } from './state';
import { Home } from './home';
import { MoviePage } from './movie';
import { ShowPage } from './show';
import { OrdersPage, OrderPage } from './orders';
import { LoginPage, FavoritesPage } from './account';
import { PaidPage } from './paid';

function App() {
  const [current, setCurrent] = useState<Route>(route());
  const [, redraw] = useState(0);
  const [cities, setCities] = useState<City[]>([]);
  const [city, setCity] = useState<string>(cityChoice());
  useEffect(() => {
    const follow = () => setCurrent(route());
    window.addEventListener('hashchange', follow);
    onLang(() => redraw((n) => n + 1));
    api.onChange(() => redraw((n) => n + 1));
    // Asked again, less and less often, until the server answers with some.
    let retry: ReturnType<typeof setTimeout> | undefined;
    const ask = (delay: number) =>
      loadCities().then((list) => {
        setCities(list);
        if (list.length === 0) retry = setTimeout(() => ask(Math.min(delay * 2, 30_000)), delay);
        else if (!list.some((c) => c.city_id === city)) choose(list[0].city_id);
      });
    ask(1000);
    return () => {
      clearTimeout(retry);
      window.removeEventListener('hashchange', follow);
    };
  }, []);
  const choose = (id: string) => {
    setCityChoice(id);
    setCity(id);
  };
  const zone = cities.find((c) => c.city_id === city)?.time_zone;
  const [page, ...rest] = current.path;
  let body;
  if (page === 'movie') body = html`<${MoviePage} key=${rest[0]} movieId=${rest[0]} city=${city} zone=${zone} query=${current.query} />`;
  else if (page === 'show') body = html`<${ShowPage} key=${rest[0]} showId=${rest[0]} cities=${cities} />`;
  else if (page === 'orders' && rest[0]) body = html`<${OrderPage} key=${rest[0]} orderId=${rest[0]} cities=${cities} />`;
  else if (page === 'orders') body = html`<${OrdersPage} cities=${cities} />`;
  else if (page === 'login') body = html`<${LoginPage} next=${current.query.get('next') ?? ''} />`;
  else if (page === 'favorites') body = html`<${FavoritesPage} />`;
  else if (page === 'paid') body = html`<${PaidPage} />`;
  else body = html`<${Home} city=${city} zone=${zone} query=${current.query} />`;
  return html`
    <header class="top">
      <a class="brand" href="#/">${t('app.name')}</a>
      <label class="row" style=${{ margin: 0, alignItems: 'center' }}>
        <span class="sr-only">${t('nav.city')}</span>
        <select data-testid="city" aria-label=${t('nav.city')} value=${city} onChange=${(e: Event) => choose((e.target as HTMLSelectElement).value)}>
          ${cities.map((c) => html`<option value=${c.city_id}>${c.name}</option>`)}
        </select>
      </label>
      <nav aria-label="main">
        <a href="#/orders">${t('nav.orders')}</a>
        <a href="#/favorites">${t('nav.favorites')}</a>
        ${api.account
          ? html`<span class="muted">${api.account.display_name ?? api.account.email}</span>
              <button type="button" onClick=${() => api.logout()}>${t('nav.logout')}</button>`
          : html`<a href=${`#/login?next=${encodeURIComponent(location.hash)}`}>${t('nav.login')}</a>`}
        <button type="button" data-testid="language" lang=${lang() === 'zh' ? 'en' : 'zh'} onClick=${() => setLang(lang() === 'zh' ? 'en' : 'zh')}>${t('nav.language')}</button>
      </nav>
    </header>
    <main>${body}</main>
  `;
}

document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en-GB';
render(html`<${App} />`, document.getElementById('app')!);
