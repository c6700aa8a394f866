// Back from the payment provider: its redirect says what happened, but only the server's
// word counts, so the payment is asked for until it is no longer pending.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../ui';
import { describe, t } from '../i18n';
import { api, keepHold } from './state';

type Payment = { payment_id: string; show_id: string; hold_id: string; order_id: string | null; status: string };

export function PaidPage() {
  const paymentId = new URLSearchParams(location.search).get('payment_id');
  const [payment, setPayment] = useState<Payment | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    if (!paymentId) return;
    let stop = false;
    (async () => {
      const until = Date.now() + 120_000;
      while (!stop) {
        try {
          const p = await api.get<Payment>(`/v1/me/payments/${paymentId}`);
          if (p.status !== 'pending' || Date.now() > until) {
            if (p.status === 'succeeded') keepHold(p.show_id, null);
            setPayment(p);
            // The provider's query is spent: keep the address clean for a reload or a share.
            history.replaceState(null, '', `/${location.hash}`);
            if (p.order_id) location.hash = `#/orders/${p.order_id}`;
            return;
          }
        } catch (e) {
          if (Date.now() > until) {
            setError(describe(e));
            return;
          }
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    return () => {
      stop = true;
    };
  }, [paymentId]);
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!payment) return html`<p class="notice" data-testid="paid-checking">${t('paid.checking')}</p>`;
  return payment.status === 'succeeded'
    ? html`<p class="success">${t('paid.succeeded')}</p>`
    : html`<p class="error" data-testid="paid-failed">${t('paid.failed', { status: payment.status })}</p>
        <p><a href=${`#/show/${payment.show_id}`}>${t('orders.open_show')}</a></p>`;
}
