// A booking made with the keyboard alone: Tab and Enter through the pages, the arrow keys
// across the seat grid (one tab stop), Space to pick, Enter to hold and to pay.
import { account, assert, catalogue, signedIn, startServer, tabTo } from './harness.mjs';

export default async function ({ browser }) {
  const server = await startServer('keyboard');
  try {
    const scene = await catalogue(server);
    const page = await (await signedIn(browser, await account(server, ['customer'], 'Dai'))).newPage();
    await page.goto(`${server.baseUrl}/#/?date=${scene.date}`);
    await page.getByTestId('movie').first().waitFor();
    await tabTo(page, '[data-testid="movie"]');
    await page.keyboard.press('Enter');
    await page.getByTestId('showtime').first().waitFor();
    await tabTo(page, '[data-testid="showtime"]');
    await page.keyboard.press('Enter');
    await page.locator('[data-seat="A1"]').waitFor();

    // One tab stop into the hall, then arrows: A1 -> A2 -> B2 (down), pick B2 and B3.
    await tabTo(page, 'button.seat[tabindex="0"]');
    const start = await page.evaluate(() => document.activeElement.dataset.seat);
    assert(start === 'A1', `the hall's tab stop is its first free seat: ${start}`);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    const label = await page.evaluate(() => document.activeElement.getAttribute('aria-label'));
    assert(label === 'Row B, seat 2, regular, 45.00 CNY, available', `the seat's label: ${label}`);
    await page.keyboard.press('Space');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Space');
    await page.getByTestId('total').filter({ hasText: '90.00 CNY' }).waitFor();

    await tabTo(page, '[data-testid="hold-seats"]');
    await page.keyboard.press('Enter');
    await page.getByTestId('hold').waitFor();
    await tabTo(page, '[data-testid="pay-card"]');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/sandbox/pay/**');
    await tabTo(page, 'button[value="succeed"]');
    await page.keyboard.press('Enter');
    await page.getByTestId('order-status').filter({ hasText: 'Paid' }).waitFor();
    const seats = await page.getByTestId('order-seats').textContent();
    assert(seats.replace(/\s/g, '') === 'B2,B3', `the order's seats: ${seats}`);
  } finally {
    await server.stop();
  }
}
