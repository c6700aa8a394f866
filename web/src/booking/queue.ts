// On-sale day: a show sold through a waiting room. The customer lines up, follows the place
// (a long-poll that also keeps it), and once let in holds with the admission. The place's
// ticket is kept per on-sale so a reload does not lose it.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../ui';
import { describe, locale, t } from '../i18n';
import { countdown, dateTime } from '../format';
import { serverNow } from '../api';
import { api } from './state';

export type OnSale = { onsale_id: string; title: string; opens_at: string };
type Place = {
  ticket: string;
  status: 'pre_queue' | 'waiting' | 'admitted' | 'admission_expired' | 'left' | 'ended';
  opens_at: string;
  position: number | null;
  people_ahead: number | null;
  pre_queue: number | null;
  estimated_wait_seconds: number | null;
  admission: { token: string; until: string } | null;
};

const ticketKey = (onsaleId: string) => `boxoffice.queue.${onsaleId}`;

/** The admission to hold with (`null` while not let in), and the panel that gets it. */
export function useWaitingRoom(onsale: OnSale | null) {
  const [place, setPlace] = useState<Place | null>(null);
  const [error, setError] = useState('');
  const ticket = onsale ? localStorage.getItem(ticketKey(onsale.onsale_id)) : null;

  // Follow the place while it can still change.
  useEffect(() => {
    if (!onsale || !ticket || !api.account) return;
    const controller = new AbortController();
    (async () => {
      while (!controller.signal.aborted) {
        try {
          const next = await api.get<Place>(`/v1/onsales/${onsale.onsale_id}/queue/${encodeURIComponent(ticket)}?wait=25`, { signal: controller.signal });
          setPlace(next);
          setError('');
          if (next.status === 'admission_expired' || next.status === 'left') localStorage.removeItem(ticketKey(onsale.onsale_id));
          if (next.status !== 'pre_queue' && next.status !== 'waiting') return;
        } catch (e) {
          if ((e as Error).name === 'AbortError') return;
          setError(describe(e));
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
    })();
    return () => controller.abort();
  }, [onsale?.onsale_id, ticket, api.account?.account_id]);

  const join = async () => {
    if (!onsale) return;
    setError('');
    try {
      const joined = await api.post<Place>(`/v1/onsales/${onsale.onsale_id}/queue`);
      localStorage.setItem(ticketKey(onsale.onsale_id), joined.ticket);
      setPlace(joined);
    } catch (e) {
      setError(describe(e));
    }
  };

  // An admission runs out at its `until`: then the customer lines up again.
  const until = place?.status === 'admitted' && place.admission ? Date.parse(place.admission.until) : null;
  useEffect(() => {
    if (until === null || !onsale) return;
    const timer = setTimeout(() => {
      localStorage.removeItem(ticketKey(onsale.onsale_id));
      setPlace((p) => (p ? { ...p, status: 'admission_expired', admission: null } : p));
    }, Math.max(0, until - serverNow()));
    return () => clearTimeout(timer);
  }, [until]);
  const admitted = until !== null && until > serverNow() ? place!.admission : null;
  const open = !onsale || place?.status === 'ended' || admitted !== null;
  return { admission: admitted?.token ?? null, open, panel: () => (open ? null : Panel({ onsale: onsale!, place, error, join })) };
}

function Panel({ onsale, place, error, join }: { onsale: OnSale; place: Place | null; error: string; join: () => void }) {
  const status = place?.status;
  return html`<section class="card" data-testid="waiting-room" aria-live="polite">
    <h2>${t('queue.title')}</h2>
    <p>${t('queue.explain', { title: onsale.title, opens: dateTime(onsale.opens_at, undefined, locale()) })}</p>
    ${!api.account
      ? html`<p><a href=${`#/login?next=${encodeURIComponent(location.hash)}`}>${t('show.sign_in_first')}</a></p>`
      : !place || status === 'admission_expired' || status === 'left'
        ? html`${status ? html`<p class="notice">${t(`queue.${status}`)}</p>` : null}
            <button type="button" class="primary" data-testid="join-queue" onClick=${join}>${t('queue.join')}</button>`
        : status === 'pre_queue'
          ? html`<p class="notice" data-testid="queue-place">${t('queue.pre_queue', { opens: dateTime(place.opens_at, undefined, locale()), n: place.pre_queue ?? 1 })}</p>`
          : html`<p class="notice" data-testid="queue-place">${t('queue.waiting', { ahead: place.people_ahead ?? 0, wait: countdown(Date.now() + (place.estimated_wait_seconds ?? 0) * 1000, Date.now()) })}</p>`}
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
  </section>`;
}
