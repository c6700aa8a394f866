// A customer books two seats end to end: city -> movie -> showtime -> seats -> hold (signing
// up on the way) -> the sandbox's pay page -> back to the order, shown as paid; the seat
// map shows the seats sold.
import { api, assert, catalogue, eventually, seatState, signedIn, startServer } from './harness.mjs';

export default async function ({ browser }) {
  const server = await startServer('book');
  try {
    const scene = await catalogue(server);
    const context = await signedIn(browser, null);
    const page = await context.newPage();
    await page.goto(server.baseUrl + '/');
    await page.getByTestId('city').selectOption({ label: scene.city.name });
    await page.getByTestId('day-1').click();
    await page.getByTestId('movie').filter({ hasText: '流浪地球3' }).click();
    await page.getByTestId('cinema').filter({ hasText: scene.cinema.name }).getByTestId('showtime').first().click();
    await page.waitForURL(`**/#/show/${scene.show.show_id}`);

    // Not signed in yet: holding leads to the sign-in page, and back.
    await page.locator('[data-seat="C6"]').click();
    await page.getByTestId('hold-seats').click();
    await page.getByTestId('register-name').fill('小明 Xiaoming');
    await page.getByTestId('register-email').fill(`xiaoming.${process.pid}@example.com`);
    await page.getByTestId('register-password').fill('correct horse battery');
    await page.getByTestId('register-submit').click();
    await page.waitForURL(`**/#/show/${scene.show.show_id}`);

    await page.locator('[data-seat="C6"]').click();
    await page.locator('[data-seat="C7"]').click();
    await page.getByTestId('total').filter({ hasText: '160.00 CNY' }).waitFor();
    await page.getByTestId('hold-seats').click();
    await page.getByTestId('hold').waitFor();
    await page.getByTestId('countdown').waitFor();
    assert((await seatState(page, 'C6')) === 'mine', 'the held seat is drawn as ours');

    await page.getByTestId('pay-alipay').click();
    await page.waitForURL('**/sandbox/pay/**');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await page.waitForURL('**/#/orders/**');
    await page.getByTestId('order-status').filter({ hasText: 'Paid' }).waitFor();
    const seats = await page.getByTestId('order-seats').textContent();
    assert(seats.includes('C6') && seats.includes('C7'), `the order's seats: ${seats}`);
    await page.getByTestId('pickup-code').waitFor();

    // The seat map shows them sold, as the server does.
    await page.goto(`${server.baseUrl}/#/show/${scene.show.show_id}`);
    await eventually('C6 and C7 drawn sold', async () => (await seatState(page, 'C6')) === 'sold' && (await seatState(page, 'C7')) === 'sold');
    const map = await api(server.baseUrl, 'GET', `/v1/shows/${scene.show.show_id}/seats`);
    assert(map.seats.filter((s) => s.status === 'sold').map((s) => s.seat_id).sort().join() === 'C6,C7', 'the server sold C6 and C7');
    await context.close();
  } finally {
    await server.stop();
  }
}
