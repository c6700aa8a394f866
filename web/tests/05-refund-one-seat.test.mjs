// Refund of one seat from the order history: the fee the cinema's policy keeps is shown
// before confirming, then the order's new status, and the server agrees.
import { account, api, assert, catalogue, paidOrder, signedIn, startServer } from './harness.mjs';

export default async function ({ browser }) {
  const server = await startServer('refund');
  try {
    // Refunds in full only until a week before the start: now the cinema keeps 10%.
    const scene = await catalogue(server, { policy: { full_refund_until_minutes: 10080, fee_percent: 10 } });
    const who = await account(server, ['customer'], 'Fang');
    const payment = await paidOrder(server, who, scene.show.show_id, ['A5', 'A6']);
    const page = await (await signedIn(browser, who)).newPage();
    await page.goto(`${server.baseUrl}/#/orders`);
    await page.getByTestId('order').first().click();
    await page.getByTestId('order-status').filter({ hasText: 'Paid' }).waitFor();
    await page.getByTestId('refund').click();
    await page.getByTestId('refund-seat-A6').check();
    const quote = await page.getByTestId('refund-quote').textContent();
    assert(quote.includes('40.50 CNY') && quote.includes('4.50 CNY'), `the quote shows the amount and the fee: ${quote}`);
    await page.getByTestId('refund-confirm').click();
    await page.getByTestId('done').waitFor();
    await page.getByTestId('order-status').filter({ hasText: 'Partly refunded' }).waitFor();
    await page.getByTestId('order-fees').filter({ hasText: '4.50 CNY' }).waitFor();
    assert((await page.getByTestId('order-seats').textContent()).trim() === 'A5', 'A5 is left in the order');
    const order = await api(server.baseUrl, 'GET', `/v1/me/orders/${payment.order_id}`, undefined, who.session.access_token);
    assert(order.status === 'partially_refunded' && order.fees.amount_minor === 450 && order.refunded.amount_minor === 4050, `the server: ${JSON.stringify(order)}`);
  } finally {
    await server.stop();
  }
}
