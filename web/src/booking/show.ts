// One show: the live seat map (Server-Sent Events: a snapshot, then every change, resumed
// without a gap after a reconnect), choosing seats or the best available, the hold with its
// countdown and the way to pay, and the waiting list when nothing is left.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Money } from '../api';
import { html } from '../ui';
import { describe, locale, t } from '../i18n';
import { countdown, dateTime, money, sum } from '../format';
import { api, City, Hold, keepHold, keptHold, zoneOf } from './state';
import { Problem, serverNow } from '../api';
import { Legend, Seat, SeatGrid } from './seatmap';
import { OnSale, useWaitingRoom } from './queue';

const MAX_SEATS = 10;

type ShowInfo = {
  show_id: string;
  movie_id: string;
  title: string;
  starts_at: string;
  cancelled: boolean;
  on_sale: boolean;
  movie: { title: string; original_title: string | null } | null;
  cinema: { cinema_id: string; city_id: string; name: string; address: string } | null;
  hall: { name: string } | null;
  categories: Array<{ category: string; price: Money; status: string }>;
};
type SeatMap = { version: number; capacity: number; counts: { available: number; held: number; sold: number }; seats: Seat[] };
type Change = { version: number; changes: Array<{ seat_id: string; status: Seat['status'] }> };
type Entry = { entry_id: string; status: string; place: number | null; version?: number; offer: { hold_id: string; seats: string[]; total: Money; expires_at: string } | null };

export const categoryName = (c: string) => {
  const name = t(`category.${c}`);
  return name === `category.${c}` ? c : name;
};

function counted(seats: Seat[]) {
  const counts = { available: 0, held: 0, sold: 0 };
  for (const s of seats) counts[s.status] += 1;
  return counts;
}

/** The seat map, kept live over the show's event stream. */
export function useLiveSeats(showId: string, onTaken: (ids: string[]) => void) {
  const [map, setMap] = useState<SeatMap | null>(null);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    let source: EventSource;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let delay = 1000;
    const open = () => {
      source = new EventSource(`/v1/shows/${showId}/seats/live`);
      follow(source);
    };
    const follow = (source: EventSource) => {
    source.addEventListener('open', () => setConnected(true));
    source.addEventListener('error', () => {
      setConnected(false);
      // The browser reconnects by itself (with Last-Event-ID) after a dropped connection,
      // but gives up for good on an HTTP error (503 too_many_streams, a proxy's 502): then
      // a new stream, which starts with a fresh snapshot, after a growing pause.
      if (source.readyState === EventSource.CLOSED) {
        retry = setTimeout(open, delay);
        delay = Math.min(delay * 2, 30_000);
      }
    });
    source.addEventListener('snapshot', (e) => {
      delay = 1000;
      setConnected(true);
      setMap(JSON.parse((e as MessageEvent).data) as SeatMap);
    });
    source.addEventListener('seats', (e) => {
      const change = JSON.parse((e as MessageEvent).data) as Change;
      const status = new Map(change.changes.map((c) => [c.seat_id, c.status]));
      onTaken(change.changes.filter((c) => c.status !== 'available').map((c) => c.seat_id));
      setMap((m) => {
        if (!m) return m;
        const seats = m.seats.map((s) => (status.has(s.seat_id) ? { ...s, status: status.get(s.seat_id)! } : s));
        return { ...m, version: change.version, seats, counts: counted(seats) };
      });
    });
    };
    open();
    return () => {
      clearTimeout(retry);
      source.close();
    };
  }, [showId]);
  return { map, connected };
}

/** Time left until `until` (the server's clock), ticking on its own so that only it is
 * drawn again each second, not the hall; `onLapse` once it reaches zero. */
export function Countdown({ until, onLapse }: { until: number; onLapse: () => void }) {
  const [now, setNow] = useState(serverNow());
  useEffect(() => {
    const timer = setInterval(() => setNow(serverNow()), 250);
    return () => clearInterval(timer);
  }, []);
  const lapsed = now >= until;
  useEffect(() => {
    if (lapsed) onLapse();
  }, [lapsed]);
  return html`<div class="countdown" data-testid="countdown" role="timer">${countdown(until, now)}</div>`;
}

export function ShowPage({ showId, cities }: { showId: string; cities: City[] }) {
  const [info, setInfo] = useState<ShowInfo | null>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const [hold, setHold] = useState<Hold | null>(keptHold(showId));
  const [ended, setEnded] = useState<'expired' | 'released' | null>(null);
  const [confirmed, setConfirmed] = useState('');
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  const [promo, setPromo] = useState('');
  const [bestCount, setBestCount] = useState(2);
  const [bestCategory, setBestCategory] = useState('');
  const [onsale, setOnsale] = useState<OnSale | null>(null);
  const [entry, setEntry] = useState<Entry | null>(null);
  const [wanted, setWanted] = useState(2);

  // While our own hold is being made its seats turn held on the stream: not someone else's.
  const holding = useRef<string[]>([]);
  const { map, connected } = useLiveSeats(showId, (changed) => {
    const taken = changed.filter((id) => !holding.current.includes(id));
    setSelected((current) => {
      const lost = current.filter((id) => taken.includes(id));
      if (lost.length > 0) setNotice(t('show.taken_now', { seats: lost.join(', ') }));
      return current.filter((id) => !taken.includes(id));
    });
  });
  useEffect(() => {
    api.get<ShowInfo>(`/v1/shows/${showId}`).then(setInfo, (e) => setError(describe(e)));
    api.get<OnSale>(`/v1/shows/${showId}/onsale`).then(setOnsale, () => setOnsale(null));
  }, [showId]);

  const latestMap = useRef(map);
  latestMap.current = map;
  const room = useWaitingRoom(onsale);
  const expiresAt = hold ? Date.parse(hold.expires_at) : 0;
  // A hold kept from an earlier visit counts only if the server still has it held for us.
  useEffect(() => {
    const kept = keptHold(showId);
    if (!kept) return;
    api.get<{ status: string }>(`/v1/me/holds/${kept.hold_id}`).then(
      (h) => {
        if (h.status !== 'held') {
          keepHold(showId, null);
          setHold(null);
        }
      },
      () => {
        keepHold(showId, null);
        setHold(null);
      },
    );
  }, [showId, api.account?.account_id]);
  // After the countdown, ask the server until it has ended the hold too, and say so.
  useEffect(() => {
    if (ended !== 'expired' || !hold) return;
    let stop = false;
    const ask = async () => {
      while (!stop) {
        try {
          const h = await api.get<{ status: string; order_id: string | null }>(`/v1/me/holds/${hold.hold_id}`);
          if (h.status === 'paid' && h.order_id) {
            location.hash = `#/orders/${h.order_id}`;
            return;
          }
          if (h.status !== 'held') {
            setConfirmed(h.status);
            keepHold(showId, null);
            return;
          }
        } catch (e) {
          if (e instanceof Problem && e.status === 404) {
            keepHold(showId, null);
            return;
          }
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    ask();
    return () => {
      stop = true;
    };
  }, [ended, hold?.hold_id]);

  // Following a waiting-list entry: long-polls until an offer (a hold made for us) arrives.
  useEffect(() => {
    if (!entry || entry.status !== 'waiting') return;
    const controller = new AbortController();
    (async () => {
      let version = entry.version;
      while (!controller.signal.aborted) {
        try {
          const params = new URLSearchParams({ wait: '25', ...(version !== undefined ? { version: String(version) } : {}) });
          const next = await api.get<Entry>(`/v1/shows/${showId}/waitlist/${entry.entry_id}?${params}`, { signal: controller.signal });
          version = next.version;
          if (next.status !== 'waiting') {
            follow(next);
            return;
          }
        } catch (e) {
          if ((e as Error).name === 'AbortError') return;
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
    })();
    return () => controller.abort();
  }, [entry?.entry_id, entry?.status]);

  const zone = zoneOf(cities, info?.cinema?.city_id);
  const seats = map?.seats ?? [];
  const bySeat = useMemo(() => new Map(seats.map((s) => [s.seat_id, s])), [seats]);
  const mine = hold && ended === null ? hold.seats : [];
  const chosen = selected.map((id) => bySeat.get(id)).filter((s): s is Seat => !!s);
  const total = sum(chosen.map((s) => s.price));
  const soldOut = map !== null && map.counts.available === 0 && !hold;
  const signedIn = api.account !== null;

  // An entry joined on an earlier visit is followed again.
  const entryKey = `boxoffice.waitlist.${showId}`;
  useEffect(() => {
    const kept = localStorage.getItem(entryKey);
    if (kept && api.account) {
      api.get<Entry>(`/v1/shows/${showId}/waitlist/${kept}`).then(
        (e) => (e.status === 'waiting' || e.status === 'offered' ? follow(e) : localStorage.removeItem(entryKey)),
        () => localStorage.removeItem(entryKey),
      );
    }
  }, [showId, api.account?.account_id]);

  /** A waiting-list entry's news: an offer is a hold made for us, paid like any other. */
  const follow = (next: Entry) => {
    setEntry(next);
    if (next.status === 'offered' && next.offer) {
      takeHold({ hold_id: next.offer.hold_id, show_id: showId, seats: next.offer.seats, total: next.offer.total, expires_at: next.offer.expires_at });
    }
  };
  const takeHold = (h: Hold) => {
    keepHold(showId, h);
    setHold(h);
    setEnded(null);
    setConfirmed('');
    setSelected([]);
  };
  const toggle = (seat: Seat) => {
    setNotice('');
    if (hold && ended === null) return;
    if (selected.includes(seat.seat_id)) {
      setSelected(selected.filter((id) => id !== seat.seat_id));
    } else if (seat.status === 'available') {
      if (selected.length >= MAX_SEATS) setNotice(t('show.max', { n: MAX_SEATS }));
      else setSelected([...selected, seat.seat_id]);
    }
  };
  const submitHold = async (body: Record<string, unknown>) => {
    if (!signedIn) {
      location.hash = `#/login?next=${encodeURIComponent(`#/show/${showId}`)}`;
      return;
    }
    setBusy(true);
    setError('');
    setNotice('');
    holding.current = Array.isArray(body.seats) ? (body.seats as string[]) : [];
    try {
      const made = await api.post<Hold>(`/v1/shows/${showId}/holds`, {
        ...body,
        ...(promo.trim() ? { promo_code: promo.trim() } : {}),
        ...(room.admission ? { admission_token: room.admission } : {}),
      });
      takeHold(made);
    } catch (e) {
      setError(describe(e));
      // Seats taken meanwhile leave the choice (the stream's news of them was held back).
      const free = new Set((latestMap.current?.seats ?? []).filter((s) => s.status === 'available').map((s) => s.seat_id));
      setSelected((current) => current.filter((id) => free.has(id)));
    } finally {
      holding.current = [];
      setBusy(false);
    }
  };
  const pay = async (method: string) => {
    if (!hold) return;
    setBusy(true);
    setError('');
    try {
      const payment = await api.post<{ pay_url: string }>(`/v1/shows/${showId}/holds/${hold.hold_id}/payments`, {
        method,
        return_url: `${location.origin}/#/paid`,
      });
      setNotice(t('hold.redirecting'));
      location.assign(payment.pay_url);
    } catch (e) {
      setError(describe(e));
      setBusy(false);
    }
  };
  const release = async () => {
    if (!hold) return;
    setBusy(true);
    try {
      await api.delete(`/v1/shows/${showId}/holds/${hold.hold_id}`);
      keepHold(showId, null);
      setEnded('released');
    } catch (e) {
      setError(describe(e));
    } finally {
      setBusy(false);
    }
  };
  const startAgain = () => {
    keepHold(showId, null);
    setHold(null);
    setEnded(null);
    setConfirmed('');
  };
  const joinWaitlist = async () => {
    if (!signedIn) {
      location.hash = `#/login?next=${encodeURIComponent(`#/show/${showId}`)}`;
      return;
    }
    setError('');
    try {
      const joined = await api.post<Entry>(`/v1/shows/${showId}/waitlist`, { count: wanted });
      localStorage.setItem(entryKey, joined.entry_id);
      follow(joined);
    } catch (e) {
      // Already on the list (from another visit): follow that entry.
      if (e instanceof Problem && e.code === 'waitlist_entry_exists' && typeof e.body.entry_id === 'string') {
        localStorage.setItem(entryKey, e.body.entry_id);
        api.get<Entry>(`/v1/shows/${showId}/waitlist/${e.body.entry_id}`).then(follow, (err) => setError(describe(err)));
      } else {
        setError(describe(e));
      }
    }
  };

  const panel = () => {
    if (hold && ended === null) {
      return html`<section class="card" data-testid="hold" aria-live="polite">
        <h2>${t('hold.title')}</h2>
        <p>${hold.seats.join(', ')}</p>
        <p>${t('show.total')}: <strong data-testid="hold-total">${money(hold.total)}</strong>
          ${hold.discount && hold.discount.amount_minor > 0 ? html` <span class="muted">(${t('hold.discount')} ${money(hold.discount)})</span>` : null}</p>
        <div class="muted">${t('hold.left')}</div>
        <${Countdown} until=${expiresAt} onLapse=${() => setEnded('expired')} />
        <div class="muted" style=${{ marginTop: '.6em' }}>${t('hold.pay_with')}</div>
        <div class="row">
          ${['alipay', 'wechat_pay', 'card'].map(
            (m) => html`<button type="button" class="primary" data-testid=${`pay-${m}`} disabled=${busy} onClick=${() => pay(m)}>${t(`hold.${m}`)}</button>`,
          )}
        </div>
        <p><button type="button" data-testid="release" disabled=${busy} onClick=${release}>${t('hold.release')}</button></p>
      </section>`;
    }
    if (hold && ended) {
      return html`<section class="card" data-testid="hold-ended" aria-live="polite">
        <p class="notice" data-testid="hold-ended-message">${ended === 'expired' ? t('hold.expired') : t('hold.released')}</p>
        ${confirmed ? html`<p class="muted" data-testid="hold-ended-confirmed">${t('hold.expired_confirmed', { status: t(`order.status.${confirmed}`) })}</p>` : null}
        <button type="button" class="primary" onClick=${startAgain}>${t('hold.again')}</button>
      </section>`;
    }
    if (!room.open) return room.panel();
    if (soldOut) {
      return html`<section class="card" data-testid="waitlist">
        <h2>${t('waitlist.title')}</h2>
        ${!entry
          ? html`<p>${t('waitlist.explain')}</p>
              <label><span>${t('waitlist.count')}</span>
                <select value=${wanted} onChange=${(e: Event) => setWanted(Number((e.target as HTMLSelectElement).value))}>
                  ${[1, 2, 3, 4, 5, 6].map((n) => html`<option value=${n}>${n}</option>`)}
                </select></label>
              <button type="button" class="primary" data-testid="join-waitlist" onClick=${joinWaitlist}>${t('waitlist.join')}</button>`
          : entry.status === 'waiting'
            ? html`<p class="notice" data-testid="waitlist-waiting">${t('waitlist.waiting', { place: entry.place ?? '?' })}</p>`
            : html`<p class="notice">${t('waitlist.ended', { status: t(`waitlist.status.${entry.status}`) })}</p>`}
      </section>`;
    }
    return html`<section class="card" data-testid="selection">
      <h2>${t('show.selected')}</h2>
      ${chosen.length === 0
        ? html`<p class="muted">${t('show.none_selected', { n: MAX_SEATS })}</p>`
        : html`<ul data-testid="chosen">${chosen.map((s) => html`<li>${t('show.row', { row: s.row })} ${s.number} · ${categoryName(s.category)} · ${money(s.price)}</li>`)}</ul>
            <p>${t('show.total')}: <strong data-testid="total">${money(total)}</strong></p>`}
      <label><span>${t('show.promo')}</span><input value=${promo} data-testid="promo" onInput=${(e: Event) => setPromo((e.target as HTMLInputElement).value)} /></label>
      <button type="button" class="primary" data-testid="hold-seats" disabled=${busy || chosen.length === 0} onClick=${() => submitHold({ seats: selected })}>
        ${t('show.hold')}
      </button>
      <h2>${t('show.best')}</h2>
      <div class="row">
        <label><span>${t('show.best_count')}</span>
          <select data-testid="best-count" value=${bestCount} onChange=${(e: Event) => setBestCount(Number((e.target as HTMLSelectElement).value))}>
            ${Array.from({ length: MAX_SEATS }, (_, i) => html`<option value=${i + 1}>${i + 1}</option>`)}
          </select></label>
        <label><span>${t('show.best_category')}</span>
          <select value=${bestCategory} onChange=${(e: Event) => setBestCategory((e.target as HTMLSelectElement).value)}>
            <option value="">${t('show.any_category')}</option>
            ${info?.categories.map((c) => html`<option value=${c.category}>${categoryName(c.category)}</option>`)}
          </select></label>
        <button type="button" data-testid="hold-best" disabled=${busy} onClick=${() => submitHold({ count: bestCount, ...(bestCategory ? { category: bestCategory } : {}) })}>${t('show.best')}</button>
      </div>
      ${!signedIn ? html`<p class="muted">${t('show.sign_in_first')}</p>` : null}
    </section>`;
  };

  return html`
    <p><a href=${info ? `#/movie/${info.movie_id}` : '#/'}>← ${t('back')}</a></p>
    ${info
      ? html`<header>
          <h1>${info.title}</h1>
          <p class="muted">${info.cinema?.name ?? ''} · ${info.hall?.name ?? ''} · <span data-testid="starts">${dateTime(info.starts_at, zone, locale())}</span></p>
        </header>`
      : null}
    ${info?.cancelled ? html`<p class="error">${t('show.cancelled')}</p>` : info && !info.on_sale ? html`<p class="error">${t('show.not_on_sale')}</p>` : null}
    ${onsale && room.admission ? html`<p class="success" data-testid="admitted">${t('queue.admitted')}</p>` : null}
    ${error ? html`<p class="error" role="alert" data-testid="error">${error}</p>` : null}
    ${notice ? html`<p class="notice" role="status" data-testid="notice">${notice}</p>` : null}
    <div class="layout">
      <section class="card">
        ${info ? html`<${Legend} categories=${info.categories} categoryName=${categoryName} />` : null}
        ${map
          ? html`<p class="muted" data-testid="counts">${t('show.counts', { available: map.counts.available, capacity: map.seats.length })}
              · <span data-testid="live">${connected ? t('show.live') : t('show.reconnecting')}</span></p>
              <${SeatGrid} seats=${seats} selected=${selected} mine=${mine} categoryName=${categoryName} onToggle=${toggle} label=${info?.hall?.name ?? t('show.screen')} />`
          : html`<p class="muted">${t('loading')}</p>`}
      </section>
      <aside>${panel()}</aside>
    </div>
  `;
}
