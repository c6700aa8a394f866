// On-sale day: a show sold through a waiting room. The customer lines up from the seat map,
// is let in at the on-sale's rate, and holds with the admission; a hold without one is
// refused by the server.
import { account, api, assert, catalogue, signedIn, startServer } from './harness.mjs';

export default async function ({ browser }) {
  const server = await startServer('onsale');
  try {
    const scene = await catalogue(server);
    const show = scene.show.show_id;
    const opensAt = new Date(Date.now() + 2000).toISOString();
    await server.api('POST', '/v1/onsales', { title: '流浪地球3 首映', show_ids: [show], opens_at: opensAt, admitted_per_minute: 600 });

    const page = await (await signedIn(browser, await account(server, ['customer'], 'Kong'))).newPage();
    await page.goto(`${server.baseUrl}/#/show/${show}`);
    await page.getByTestId('waiting-room').waitFor();
    await page.getByTestId('join-queue').click();
    await page.getByTestId('queue-place').waitFor();
    // Let in: the seat picker's panel comes back, and the hold carries the admission.
    await page.getByTestId('admitted').waitFor();
    await page.locator('[data-seat="C6"]').click();
    await page.getByTestId('hold-seats').click();
    await page.getByTestId('hold').waitFor();

    const other = await account(server, ['customer'], 'Lu');
    const refused = await fetch(`${server.baseUrl}/v1/shows/${show}/holds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.session.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ seats: ['C7'] }),
    });
    const problem = await refused.json();
    assert(refused.status === 403 && problem.code === 'queue_required', `a hold without an admission: ${refused.status} ${problem.code}`);
    const map = await api(server.baseUrl, 'GET', `/v1/shows/${show}/seats`);
    assert(map.seats.find((s) => s.seat_id === 'C6').status === 'held', 'the admitted customer holds C6');
  } finally {
    await server.stop();
  }
}
