// Sold out: a customer joins the waiting list from the seat map and sees the offer arrive
// live when seats free up: a hold made for them, with its countdown and pay buttons.
import { account, api, assert, catalogue, signedIn, startServer } from './harness.mjs';

export default async function ({ browser }) {
  const server = await startServer('waitlist');
  try {
    const scene = await catalogue(server, { rows: ['RRRR'] });
    const show = scene.show.show_id;
    const first = await account(server, ['customer'], 'Han');
    const held = await api(server.baseUrl, 'POST', `/v1/shows/${show}/holds`, { seats: ['A1', 'A2', 'A3', 'A4'] }, first.session.access_token);

    const page = await (await signedIn(browser, await account(server, ['customer'], 'Jin'))).newPage();
    await page.goto(`${server.baseUrl}/#/show/${show}`);
    await page.getByTestId('join-waitlist').click();
    await page.getByTestId('waitlist-waiting').waitFor();

    // The first customer lets the seats go: the waiting list offers two of them.
    await api(server.baseUrl, 'DELETE', `/v1/shows/${show}/holds/${held.hold_id}`, undefined, first.session.access_token);
    await page.getByTestId('hold').waitFor();
    await page.getByTestId('countdown').waitFor();
    const mine = await page.locator('[data-status="mine"]').count();
    assert(mine === 2, `the offered seats are drawn as ours: ${mine}`);
  } finally {
    await server.stop();
  }
}
