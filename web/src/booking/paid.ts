// Back from the payment provider: its redirect says what happened, but only the server's
// word counts, so the payment is asked for until it is no longer pending, and once it
// succeeded until its order is made (as long as it takes: the page says it is still
// checking, and not to pay again).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../ui';
import { describe, t } from '../i18n';
import { Problem } from '../api';
import { api, keepHold } from './state';

type Payment = { payment_id: string; show_id: string; hold_id: string; order_id: string | null; status: string };

export function PaidPage() {
  const paymentId = new URLSearchParams(location.search).get('payment_id');
  const [payment, setPayment] = useState<Payment | null>(null);
  const [error, setError] = useState('');
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    if (!paymentId) return;
    let stop = false;
    const started = Date.now();
    (async () => {
      while (!stop) {
        try {
          const p = await api.get<Payment>(`/v1/me/payments/${paymentId}`);
          setPayment(p);
          // A payment that succeeded becomes an order a moment later (the server confirms the
          // hold once it has the provider's word): wait for the order to take the customer to.
          const settled = p.status !== 'pending' && !(p.status === 'succeeded' && !p.order_id);
          if (settled) {
            if (p.status === 'succeeded') keepHold(p.show_id, null);
            // The provider's query is spent: keep the address clean for a reload or a share.
            history.replaceState(null, '', `/${location.hash}`);
            if (p.order_id) location.hash = `#/orders/${p.order_id}`;
            return;
          }
        } catch (e) {
          // Not this account's payment, or no such payment: asking again will not change it.
          if (e instanceof Problem && e.status >= 400 && e.status < 500) {
            setError(describe(e));
            return;
          }
        }
        setSlow(Date.now() - started > 10_000);
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    return () => {
      stop = true;
    };
  }, [paymentId]);
  if (!paymentId) return html`<p class="notice">${t('paid.no_payment')} <a href="#/orders">${t('nav.orders')}</a></p>`;
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!payment || payment.status === 'pending') {
    return html`<p class="notice" data-testid="paid-checking">${slow ? t('paid.pending') : t('paid.checking')}</p>`;
  }
  return payment.status === 'succeeded'
    ? html`<p class="success">${t('paid.succeeded')}</p>`
    : html`<p class="error" data-testid="paid-failed">${t('paid.failed', { status: t(`payment.status.${payment.status}`) })}</p>
        <p><a href=${`#/show/${payment.show_id}`}>${t('orders.open_show')}</a></p>`;
}
