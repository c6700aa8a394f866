// The box-office dashboard at /admin: a staff member signs in through the form, schedules a
// show of a movie into a hall for tomorrow afternoon (around the catalogue's evening show),
// and the booking side sees it (the API's showtimes, and the booking app's movie page links
// to it); then cancels it from the Today tab and the show says so. An analyst reads the
// reports (charts, the per-show table, projection lag); a customer is told the dashboard is
// not for them. Screenshots at 375 and 1,280 px.
import { join } from 'node:path';
import { startServer, catalogue, account, signedIn, eventually, assert, SHOTS, api } from './harness.mjs';

const PHONE = { width: 375, height: 812 };
const DESK = { width: 1280, height: 900 };

async function signIn(page, server, who) {
  await page.goto(`${server.baseUrl}/admin`);
  await page.getByTestId('signin-email').fill(who.email);
  await page.getByTestId('signin-password').fill(who.password);
  await page.getByTestId('signin-submit').click();
}

async function shoot(page, name) {
  for (const [size, viewport] of [['375', PHONE], ['1280', DESK]]) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: join(SHOTS, `admin-${name}-${size}.png`), fullPage: true });
  }
}

export default async function ({ browser }) {
  const server = await startServer('admin');
  try {
    const cat = await catalogue(server);
    const movieId = cat.movie.movie_id;
    const staff = await account(server, ['staff'], 'Staff');
    const analyst = await account(server, ['analyst'], 'Analyst');
    const customer = await account(server, ['customer'], 'Customer');

    // Two tickets sold at the counter for the catalogue's show, for the reports to show.
    const hold = await server.api('POST', `/v1/shows/${cat.show.show_id}/holds`, { seats: ['A6', 'A7'] });
    await server.api('POST', `/v1/shows/${cat.show.show_id}/holds/${hold.hold_id}/confirm`, { payment_reference: 'counter-06', amount: hold.total });

    // Staff: sign in through the form, schedule tomorrow 14:00 (the catalogue's show is 19:00).
    const context = await signedIn(browser, null, { viewport: DESK });
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(String(e)));
    await signIn(page, server, staff);
    await page.getByTestId('tab-button-schedule').click();
    await page.getByTestId('schedule-city').selectOption(cat.city.city_id);
    await page.getByTestId('schedule-cinema').selectOption(cat.cinema.cinema_id);
    await page.getByTestId('schedule-hall').selectOption(cat.hall.hall_id);
    await page.getByTestId('schedule-movie').selectOption(movieId);
    await page.getByTestId('schedule-date').fill(cat.date);
    await page.getByTestId('schedule-time').fill('14:00');
    // The day's schedule beside the form already lists the evening show.
    await page.getByTestId('schedule-day').getByText('流浪地球3').first().waitFor();
    await shoot(page, 'schedule');
    await page.setViewportSize(DESK);
    await page.getByTestId('schedule-submit').click();
    const idText = page.getByTestId('schedule-show-id');
    await idText.waitFor();
    const showId = (await idText.textContent()).trim();
    assert(/^[0-9a-f-]{36}$/.test(showId), `a show id is shown (${showId})`);
    const link = await page.getByTestId('schedule-booking-link').getAttribute('href');
    assert(link === `/#/show/${showId}`, `the success links to the show's booking page (${link})`);
    await page.screenshot({ path: join(SHOTS, 'admin-scheduled-1280.png'), fullPage: true });

    // The booking side sees it: the movie's showtimes through the API...
    const starts = new Date(`${cat.date}T14:00:00+08:00`).getTime();
    await eventually('the new show among the movie\'s showtimes', async () => {
      const cinemas = await api(server.baseUrl, 'GET', `/v1/movies/${movieId}/shows?date=${cat.date}`);
      const show = cinemas.flatMap((c) => c.shows).find((s) => s.show_id === showId);
      return show && new Date(show.starts_at).getTime() === starts;
    });
    // ...and on the booking app's movie page (the day's tab of tomorrow), as a link to the show.
    const booking = await context.newPage();
    await booking.goto(`${server.baseUrl}/#/movie/${movieId}?date=${cat.date}`);
    await booking.locator(`[data-testid="showtime"][href$="#/show/${showId}"]`).waitFor();
    await booking.locator(`[data-testid="showtime"][href$="#/show/${cat.show.show_id}"]`).waitFor();
    await booking.close();

    // Today tab, tomorrow: both shows with occupancy bars; cancel the new one.
    await page.getByTestId('tab-button-today').click();
    await page.getByTestId('today-city').selectOption(cat.city.city_id);
    await page.getByTestId('today-cinema').selectOption(cat.cinema.cinema_id);
    await page.getByTestId('today-date').fill(cat.date);
    const row = page.locator(`[data-testid="today-show"][data-show-id="${showId}"]`);
    const evening = page.locator(`[data-testid="today-show"][data-show-id="${cat.show.show_id}"]`);
    await evening.getByText('2 sold').waitFor();
    await row.getByTestId('occupancy-bar').waitFor();
    await row.getByTestId('cancel-show').click();
    await row.getByTestId('cancel-reason').fill('Projector fault');
    await shoot(page, 'today');
    await page.setViewportSize(DESK);
    await row.getByTestId('confirm-cancel').click();
    await page.locator(`[data-testid="today-show"][data-show-id="${showId}"][data-cancelled="true"]`).waitFor();
    await row.getByTestId('show-cancelled').waitFor();
    assert((await evening.getAttribute('data-cancelled')) === 'false', 'the evening show is untouched');
    const cancelled = await api(server.baseUrl, 'GET', `/v1/shows/${showId}`);
    assert(cancelled.cancelled === true, 'GET /v1/shows/{id} says cancelled');
    assert(problems.length === 0, `no errors in the page's console: ${problems.join('; ')}`);
    await context.close();

    // Analyst: reports only, charts and the per-show table with the two counter sales.
    await eventually('the sales in the box-office report', async () => {
      const report = await api(
        server.baseUrl,
        'GET',
        `/v1/reports/box-office?group_by=show&from=${cat.date}&to=${cat.date}`,
        undefined,
        analyst.session.access_token,
      );
      return report.rows.some((r) => r.show_id === cat.show.show_id && r.tickets_sold === 2);
    });
    const reports = await signedIn(browser, null, { viewport: DESK });
    const rpage = await reports.newPage();
    await signIn(rpage, server, analyst);
    await rpage.getByTestId('tab-reports').waitFor();
    assert((await rpage.getByTestId('tab-button-schedule').count()) === 0, 'an analyst gets no schedule tab');
    await rpage.getByTestId('chart-day').locator('rect:not([height="0"])').first().waitFor();
    await rpage.getByTestId('chart-movie').locator('rect').first().waitFor();
    const showRow = rpage.locator(`[data-testid="report-show-row"][data-show-id="${cat.show.show_id}"]`);
    await showRow.waitFor();
    const cells = await showRow.locator('td').allTextContents();
    assert(cells[2].trim() === '2', `the show sold 2 tickets (${cells.join(' | ')})`);
    assert(cells[4].includes('90.00 CNY'), `gross is 2 × 45.00 CNY (${cells.join(' | ')})`);
    await rpage.locator(`[data-testid="report-show-row"][data-show-id="${showId}"]`).getByText('Cancelled').waitFor();
    await rpage.getByTestId('lag-row').first().waitFor();
    await shoot(rpage, 'reports');
    // 中文: the switch in the header.
    await rpage.getByTestId('lang-switch').click();
    await rpage.getByTestId('tab-button-reports').getByText('报表').waitFor();
    await rpage.setViewportSize(PHONE);
    await rpage.screenshot({ path: join(SHOTS, 'admin-reports-zh-375.png'), fullPage: true });
    await rpage.getByTestId('lang-switch').click();
    await rpage.getByTestId('tab-button-reports').getByText('Reports').waitFor();
    await reports.close();

    // A customer is told the dashboard is not for them.
    const other = await signedIn(browser, null, { viewport: PHONE });
    const cpage = await other.newPage();
    await signIn(cpage, server, customer);
    await cpage.getByTestId('no-access').waitFor();
    await other.close();
  } finally {
    await server.stop();
  }
}
