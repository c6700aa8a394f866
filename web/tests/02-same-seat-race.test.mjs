// Two customers pick the same seat at once: exactly one holds it; the other sees it turn
// taken live (no reload) and books another.
import { account, api, assert, catalogue, eventually, seatState, signedIn, startServer } from './harness.mjs';

export default async function ({ browser }) {
  const server = await startServer('race');
  try {
    const scene = await catalogue(server);
    const showUrl = `${server.baseUrl}/#/show/${scene.show.show_id}`;
    const pages = [];
    for (const name of ['Ann', 'Bo']) {
      const context = await signedIn(browser, await account(server, ['customer'], name));
      const page = await context.newPage();
      await page.goto(showUrl);
      await page.locator('[data-seat="D8"]').click();
      await page.getByTestId('total').waitFor();
      pages.push(page);
    }
    // Both press "hold" together.
    await Promise.all(pages.map((p) => p.getByTestId('hold-seats').click()));
    const outcome = async (p) => {
      if (await p.getByTestId('hold').isVisible()) return 'held';
      if (await p.getByTestId('error').isVisible()) return 'refused';
      // Or the other hold landed first and the stream took the seat off this page's choice.
      if (await p.getByTestId('notice').isVisible()) return 'refused';
      return null;
    };
    const outcomes = await eventually('both answers', async () => {
      const both = await Promise.all(pages.map(outcome));
      return both.every(Boolean) ? both : null;
    });
    assert(outcomes.filter((o) => o === 'held').length === 1, `exactly one holds D8: ${outcomes}`);
    const loser = pages[outcomes.indexOf('refused')];
    const said = (await loser.getByTestId('error').isVisible()) ? loser.getByTestId('error') : loser.getByTestId('notice');
    const text = await said.textContent();
    assert(/just (took|taken)|was just taken/.test(text), `the refusal in words: ${text}`);
    // Drawn taken on the loser's page without a reload.
    await eventually('D8 taken on the other page', async () => (await seatState(loser, 'D8')) === 'held');

    // The loser books another seat.
    await loser.locator('[data-seat="D9"]').click();
    await loser.getByTestId('hold-seats').click();
    await loser.getByTestId('hold').waitFor();
    await loser.getByTestId('pay-wechat_pay').click();
    await loser.waitForURL('**/sandbox/pay/**');
    await loser.getByRole('button', { name: 'Pay', exact: true }).click();
    await loser.getByTestId('order-status').filter({ hasText: 'Paid' }).waitFor();
    const map = await api(server.baseUrl, 'GET', `/v1/shows/${scene.show.show_id}/seats`);
    const status = Object.fromEntries(map.seats.map((s) => [s.seat_id, s.status]));
    assert(status.D8 === 'held' && status.D9 === 'sold', `the server: D8 ${status.D8}, D9 ${status.D9}`);
  } finally {
    await server.stop();
  }
}
