// The customer's orders: the list, and one order with its timeline, tickets (QR codes and
// pickup code), refunds with what the cinema's policy keeps shown before confirming, and
// changing seats within the show.
import { useEffect, useState } from 'preact/hooks';
import type { Money } from '../api';
import { html } from '../ui';
import { describe, locale, t } from '../i18n';
import { dateTime, money } from '../format';
import { api, City, zoneOf } from './state';
import { categoryName, useLiveSeats } from './show';
import { Seat, SeatGrid } from './seatmap';

export type Order = {
  hold_id: string;
  order_id: string | null;
  show_id: string;
  show_title: string | null;
  starts_at: string | null;
  cinema_id: string | null;
  cinema_name: string | null;
  hall_name: string | null;
  seats: string[];
  refunded_seats: string[];
  status: string;
  total: Money;
  discount: Money;
  refunded: Money;
  fees: Money;
  expires_at: string;
  timeline: Array<{ at: string; kind: string; detail: Record<string, unknown> }>;
  position?: string;
};
type Quote = { seats: string[]; paid: Money; fee: Money; amount: Money };
type Tickets = { pickup_code: string | null; tickets: Array<{ ticket_id: string; seat_id: string; status: string; qr: { png_base64: string } }> };

const cinemaCities = new Map<string, Promise<string | undefined>>();
function cityOfCinema(cinemaId: string): Promise<string | undefined> {
  if (!cinemaCities.has(cinemaId)) {
    cinemaCities.set(
      cinemaId,
      api.get<{ city_id: string }>(`/v1/cinemas/${cinemaId}`).then(
        (c) => c.city_id,
        () => {
          cinemaCities.delete(cinemaId); // asked again next time
          return undefined;
        },
      ),
    );
  }
  return cinemaCities.get(cinemaId)!;
}

/** The time zones of cinemas' cities (show times are read in them), by cinema id. */
function useCinemaZones(cinemaIds: Array<string | null>, cities: City[]): Map<string, string | undefined> {
  const [cityIds, setCityIds] = useState(new Map<string, string | undefined>());
  const wanted = [...new Set(cinemaIds.filter((id): id is string => !!id))].sort();
  useEffect(() => {
    Promise.all(wanted.map(async (id) => [id, await cityOfCinema(id)] as const)).then((pairs) => setCityIds(new Map(pairs)));
  }, [wanted.join()]);
  return new Map([...cityIds].map(([cinema, city]) => [cinema, zoneOf(cities, city)]));
}

/** A show's start in its cinema's zone, once that is known (nothing rather than a wrong time). */
function startText(order: Order, zones: Map<string, string | undefined>): string {
  if (!order.starts_at) return '';
  if (!order.cinema_id) return dateTime(order.starts_at, undefined, locale());
  const zone = zones.get(order.cinema_id);
  return zone ? dateTime(order.starts_at, zone, locale()) : '';
}

function needsSignIn() {
  return html`<p class="notice">${t('show.sign_in_first')} <a href=${`#/login?next=${encodeURIComponent(location.hash)}`}>${t('nav.login')}</a></p>`;
}

const statusName = (s: string) => t(`order.status.${s}`);

export function OrdersPage({ cities }: { cities: City[] }) {
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState('');
  const load = (after: string | null) =>
    api.get<{ orders: Order[]; next_cursor: string | null }>(`/v1/me/orders?limit=20${after ? `&cursor=${encodeURIComponent(after)}` : ''}`).then(
      (page) => {
        setOrders((o) => [...(after ? o ?? [] : []), ...page.orders]);
        setCursor(page.next_cursor);
      },
      (e) => setError(describe(e)),
    );
  useEffect(() => {
    if (api.account) load(null);
  }, [api.account?.account_id]);
  const zones = useCinemaZones((orders ?? []).map((o) => o.cinema_id), cities);
  if (!api.account) return needsSignIn();
  return html`
    <h1>${t('orders.title')}</h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${orders === null && !error ? html`<p class="muted">${t('loading')}</p>` : null}
    ${orders && orders.length === 0 ? html`<p class="muted">${t('orders.none')}</p>` : null}
    ${orders?.map(
      (o) => html`<a class="card movie" data-testid="order" href=${o.order_id ? `#/orders/${o.order_id}` : `#/show/${o.show_id}`}>
        <h3>${o.show_title ?? ''}</h3>
        <div class="muted">${o.cinema_name ?? ''} · ${o.hall_name ?? ''} · ${startText(o, zones)}</div>
        <div>${t('orders.seats')}: ${o.seats.join(', ')}${o.refunded_seats.length ? html` <s class="muted">${o.refunded_seats.join(', ')}</s>` : null}</div>
        <div><span class="badge" data-testid="order-status">${statusName(o.status)}</span> · ${money(o.total)}</div>
      </a>`,
    )}
    ${cursor ? html`<button type="button" onClick=${() => load(cursor)}>${t('orders.load_more')}</button>` : null}
  `;
}

export function OrderPage({ orderId, cities }: { orderId: string; cities: City[] }) {
  const [order, setOrder] = useState<Order | null>(null);
  const [tickets, setTickets] = useState<Tickets | null>(null);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const [mode, setMode] = useState<'view' | 'refund' | 'exchange'>('view');
  const load = async (position?: string) => {
    const q = position ? `?min_position=${encodeURIComponent(position)}` : '';
    try {
      const loaded = await api.get<Order>(`/v1/me/orders/${orderId}${q}`);
      setOrder(loaded);
      if (loaded.seats.length === 0) setTickets(null);
      // Tickets are issued by their own read model, a moment after the payment: asked again
      // until they are there (a refunded order has none left).
      for (let attempt = 0; attempt < 30 && loaded.seats.length > 0; attempt += 1) {
        try {
          setTickets(await api.get<Tickets>(`/v1/me/orders/${orderId}/tickets${q}`));
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    } catch (e) {
      setError(describe(e));
    }
  };
  useEffect(() => {
    if (api.account) load();
  }, [orderId, api.account?.account_id]);
  const zones = useCinemaZones([order?.cinema_id ?? null], cities);
  const zone = order?.cinema_id ? zones.get(order.cinema_id) : undefined;
  if (!api.account) return needsSignIn();
  if (error && !order) return html`<p class="error" role="alert">${error}</p>`;
  if (!order) return html`<p class="muted">${t('loading')}</p>`;
  const after = (message: string, position: string) => {
    setDone(message);
    setMode('view');
    load(position);
  };
  const canChange = (order.status === 'paid' || order.status === 'partially_refunded') && order.seats.length > 0;
  return html`
    <p><a href="#/orders">← ${t('orders.title')}</a></p>
    <section class="card" data-testid="order-detail">
      <h1>${order.show_title ?? ''}</h1>
      <p class="muted">${order.cinema_name ?? ''} · ${order.hall_name ?? ''} · <span data-testid="order-starts">${startText(order, zones)}</span></p>
      <p><span class="badge" data-testid="order-status">${statusName(order.status)}</span></p>
      <table>
        <tbody>
          <tr><th>${t('orders.seats')}</th><td data-testid="order-seats">${order.seats.join(', ')}</td></tr>
          <tr><th>${t('orders.total')}</th><td data-testid="order-total">${money(order.total)}</td></tr>
          ${order.refunded_seats.length ? html`<tr><th>${t('orders.refunded')}</th><td data-testid="order-refunded">${order.refunded_seats.join(', ')} · ${money(order.refunded)}</td></tr>` : null}
          ${order.fees.amount_minor > 0 ? html`<tr><th>${t('orders.fees')}</th><td data-testid="order-fees">${money(order.fees)}</td></tr>` : null}
          ${tickets?.pickup_code ? html`<tr><th>${t('orders.pickup')}</th><td data-testid="pickup-code"><strong>${tickets.pickup_code}</strong></td></tr>` : null}
        </tbody>
      </table>
      ${done ? html`<p class="success" role="status" data-testid="done">${done}</p>` : null}
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${canChange && mode === 'view'
        ? html`<div class="row" style=${{ marginTop: '.8em' }}>
            <button type="button" data-testid="refund" onClick=${() => { setDone(''); setMode('refund'); }}>${t('orders.refund')}</button>
            <button type="button" data-testid="exchange" onClick=${() => { setDone(''); setMode('exchange'); }}>${t('orders.exchange')}</button>
            <a href=${`#/show/${order.show_id}`}>${t('orders.open_show')}</a>
          </div>`
        : null}
    </section>
    ${mode === 'refund' ? html`<${Refund} order=${order} onDone=${after} onCancel=${() => setMode('view')} />` : null}
    ${mode === 'exchange' ? html`<${Exchange} order=${order} onDone=${after} onCancel=${() => setMode('view')} />` : null}
    ${tickets && tickets.tickets.length > 0
      ? html`<section class="card">
          <h2>${t('orders.tickets')}</h2>
          <div class="movies">
            ${tickets.tickets.map((k) => html`<figure style=${{ margin: 0 }}>
              <img src=${`data:image/png;base64,${k.qr.png_base64}`} alt=${`QR ${k.seat_id}`} width="160" height="160" />
              <figcaption>${t('orders.ticket_seat', { seat: k.seat_id })} · ${t(`ticket.status.${k.status}`)}</figcaption>
            </figure>`)}
          </div>
        </section>`
      : null}
    <section class="card">
      <h2>${t('orders.timeline')}</h2>
      <ol class="timeline" data-testid="timeline">
        ${order.timeline.map((step) => html`<li><strong>${t(`timeline.${step.kind}`)}</strong> <span class="muted">${dateTime(step.at, zone, locale())}</span></li>`)}
      </ol>
    </section>
  `;
}

function Refund({ order, onDone, onCancel }: { order: Order; onDone: (message: string, position: string) => void; onCancel: () => void }) {
  const [chosen, setChosen] = useState<string[]>([]);
  const [quote, setQuote] = useState<Quote | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const base = `/v1/shows/${order.show_id}/orders/${order.order_id}/refunds`;
  useEffect(() => {
    setQuote(null);
    setError('');
    if (chosen.length === 0) return;
    // Only the answer for the seats ticked now counts (an earlier question may answer later).
    let current = true;
    api.get<Quote>(`${base}/quote?seats=${chosen.map(encodeURIComponent).join(',')}`).then(
      (q) => current && setQuote(q),
      (e) => current && setError(describe(e)),
    );
    return () => {
      current = false;
    };
  }, [chosen.join()]);
  const quoted = quote !== null && [...quote.seats].sort().join() === [...chosen].sort().join();
  const confirm = async () => {
    setBusy(true);
    try {
      const r = await api.post<{ amount: Money; position: string }>(base, { seats: chosen });
      const fee = quote ? money(quote.fee) : '';
      onDone(t('orders.refund_done', { amount: money(r.amount), fee }), r.position);
    } catch (e) {
      setError(describe(e));
      setBusy(false);
    }
  };
  const flip = (seat: string) => setChosen((c) => (c.includes(seat) ? c.filter((s) => s !== seat) : [...c, seat]));
  return html`<section class="card" data-testid="refund-form">
    <h2>${t('orders.refund_choose')}</h2>
    ${order.seats.map((s) => html`<label><input type="checkbox" data-testid=${`refund-seat-${s}`} checked=${chosen.includes(s)} onChange=${() => flip(s)} /> ${s}</label>`)}
    ${chosen.length > 0 && !quote && !error ? html`<p class="muted">${t('orders.quote_loading')}</p>` : null}
    ${quoted ? html`<p class="notice" data-testid="refund-quote">${t('orders.refund_quote', { amount: money(quote.amount), fee: money(quote.fee) })}</p>` : null}
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    <div class="row">
      <button type="button" class="primary" data-testid="refund-confirm" disabled=${busy || !quoted} onClick=${confirm}>${t('orders.refund_confirm', { n: chosen.length })}</button>
      <button type="button" onClick=${onCancel}>${t('back')}</button>
    </div>
  </section>`;
}

function Exchange({ order, onDone, onCancel }: { order: Order; onDone: (message: string, position: string) => void; onCancel: () => void }) {
  const [giveBack, setGiveBack] = useState<string[]>([]);
  const [take, setTake] = useState<string[]>([]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const { map } = useLiveSeats(order.show_id, (taken) => setTake((c) => c.filter((s) => !taken.includes(s))));
  const pick = (seat: Seat) => {
    if (take.includes(seat.seat_id)) setTake(take.filter((s) => s !== seat.seat_id));
    else if (seat.status === 'available' && take.length < giveBack.length) setTake([...take, seat.seat_id]);
  };
  const confirm = async () => {
    setBusy(true);
    try {
      const r = await api.post<{ position: string }>(`/v1/shows/${order.show_id}/orders/${order.order_id}/exchanges`, { give_back: giveBack, take });
      onDone(t('orders.exchange_done'), r.position);
    } catch (e) {
      setError(describe(e));
      setBusy(false);
    }
  };
  const flip = (seat: string) => {
    setGiveBack((c) => (c.includes(seat) ? c.filter((s) => s !== seat) : [...c, seat]));
    setTake([]);
  };
  return html`<section class="card" data-testid="exchange-form">
    <h2>${t('orders.exchange')}</h2>
    <p class="muted">${t('orders.exchange_hint')}</p>
    ${order.seats.map((s) => html`<label><input type="checkbox" checked=${giveBack.includes(s)} onChange=${() => flip(s)} /> ${s}</label>`)}
    ${map && giveBack.length > 0 ? html`<${SeatGrid} seats=${map.seats} selected=${take} mine=${order.seats} categoryName=${categoryName} onToggle=${pick} label=${order.hall_name ?? t('show.screen')} />` : null}
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    <div class="row">
      <button type="button" class="primary" disabled=${busy || giveBack.length === 0 || take.length !== giveBack.length} onClick=${confirm}>${t('orders.exchange_confirm', { n: giveBack.length })}</button>
      <button type="button" onClick=${onCancel}>${t('back')}</button>
    </div>
  </section>`;
}
