// A hold left to run out (holds of 20 s on this server, so the test does not wait
// minutes): the countdown ends, the seats are shown released, and the server agrees.
import { account, api, assert, catalogue, eventually, seatState, signedIn, startServer } from './harness.mjs';

export default async function ({ browser }) {
  const server = await startServer('expiry', { BOXOFFICE_HOLD_TTL_SECONDS: '20', BOXOFFICE_EXPIRY_GRACE_SECONDS: '1' });
  try {
    const scene = await catalogue(server);
    const who = await account(server, ['customer'], 'Cai');
    const page = await (await signedIn(browser, who)).newPage();
    await page.goto(`${server.baseUrl}/#/show/${scene.show.show_id}`);
    await page.locator('[data-seat="B2"]').click();
    await page.locator('[data-seat="B3"]').click();
    await page.getByTestId('hold-seats').click();
    await page.getByTestId('countdown').waitFor();
    const first = await page.getByTestId('countdown').textContent();
    assert(/^\d\d:\d\d$/.test(first), `a countdown in minutes and seconds: ${first}`);

    await page.getByTestId('hold-ended-message').waitFor();
    assert(/released/.test(await page.getByTestId('hold-ended-message').textContent()), 'the page says the seats were released');
    // The server ends the hold too, and the page says so; the seats are drawn free again.
    await page.getByTestId('hold-ended-confirmed').waitFor();
    await eventually('B2 and B3 drawn free', async () => (await seatState(page, 'B2')) === 'available' && (await seatState(page, 'B3')) === 'available');
    const orders = await api(server.baseUrl, 'GET', '/v1/me/orders', undefined, who.session.access_token);
    assert(orders.orders[0].status === 'expired', `the server: ${orders.orders[0].status}`);
    const map = await api(server.baseUrl, 'GET', `/v1/shows/${scene.show.show_id}/seats`);
    assert(map.counts.held === 0 && map.counts.sold === 0, 'nothing held or sold on the server');
  } finally {
    await server.stop();
  }
}
