// What every browser test stands on: a real `boxoffice serve` on a database of its own
// (created here, dropped at the end), the built web app it serves, Debian's Chromium driven
// by playwright-core with a fresh profile, and helpers that set the scene through the public
// API (a catalogue, accounts with roles). Nothing is mocked; tests wait for what a person
// would see, with generous deadlines, never for a fixed time.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const WEB = fileURLToPath(new URL('..', import.meta.url));
export const ROOT = join(WEB, '..');
export const BIN = process.env.BOXOFFICE_BIN ?? join(ROOT, 'target/debug/boxoffice');
export const SHOTS = join(ROOT, 'target/web-screenshots');
/** Long enough for a loaded CI machine; every wait is for a condition, this only bounds it. */
export const DEADLINE = 60_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A server on a fresh database, with `env` added to its environment. */
export async function startServer(name, env = {}) {
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `boxoffice_web_${name}_${process.pid}`;
  const admin = new URL(base);
  const url = new URL(base);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const port = await freePort();
  const fullEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    BOXOFFICE_WEB_DIR: join(WEB, 'dist'),
    RUST_LOG: process.env.RUST_LOG ?? 'warn',
    ...env,
  };
  execFileSync(BIN, ['migrate'], { env: fullEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  const child = spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`], { env: fullEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => {
    log = (log + d).slice(-20_000);
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const until = Date.now() + DEADLINE;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited:\n${log}`);
    try {
      if ((await fetch(`${baseUrl}/readyz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > until) throw new Error(`the server did not become ready:\n${log}`);
    await sleep(100);
  }
  const token = (sub, role) =>
    execFileSync(BIN, ['token', '--sub', sub, '--role', role], { env: fullEnv }).toString().trim();
  const server = {
    baseUrl,
    log: () => log,
    token,
    admin: token('web-test-admin', 'admin'),
    staff: token('web-test-staff', 'staff'),
    async stop() {
      await Promise.all([...contexts].map((c) => c.close().catch(() => undefined)));
      // A server stops on SIGTERM even with pages still following live seat maps; one that
      // does not within the deadline is a failure (and is killed so the run goes on).
      const exited = new Promise((r) => (child.exitCode !== null ? r(true) : child.once('exit', () => r(true))));
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited, sleep(DEADLINE).then(() => false)]);
      if (!stopped) child.kill('SIGKILL');
      admin.pathname = admin.pathname || '/postgres';
      try {
        execFileSync('psql', [admin.toString(), '-qc', `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`], { stdio: 'ignore' });
      } catch {
        /* dropped by the next run's cleanup at worst */
      }
      if (!stopped) throw new Error(`the server did not stop within ${DEADLINE / 1000} s of SIGTERM:\n${log}`);
    },
  };
  server.api = (method, path, body, bearer = server.staff, headers = {}) => api(baseUrl, method, path, body, bearer, headers);
  return server;
}

/** One API call; throws with the problem on anything but 2xx. */
export async function api(baseUrl, method, path, body, bearer, headers = {}) {
  const response = await fetch(baseUrl + path, {
    method,
    headers: {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return json;
}

/** Asks `probe` until it returns something truthy. */
export async function eventually(what, probe, deadline = DEADLINE) {
  const until = Date.now() + deadline;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}: ${last}`);
    await sleep(200);
  }
}

/** The local day `daysAhead` from now in Asia/Shanghai, YYYY-MM-DD. */
export function shanghaiDate(daysAhead = 0) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(Date.now() + daysAhead * 86_400_000));
}

/** A city, a cinema with a refund policy, a hall drawn from `rows` (layout cells), a movie,
 * and a show of it tomorrow at `hour` (Shanghai), all through the staff API. */
export async function catalogue(server, { tag = 'a', rows, hour = 19, city = '上海', cinema = '万达影城(五角场店)', movie = '流浪地球3', original = 'The Wandering Earth III', policy = { full_refund_until_minutes: 30, fee_percent: 10 } } = {}) {
  const staff = (m, p, b) => server.api(m, p, b, server.staff);
  const cityName = `${city}${tag === 'a' ? '' : tag}`;
  const cityRow = { city_id: (await staff('POST', '/v1/cities', { name: cityName, time_zone: 'Asia/Shanghai' })).id, name: cityName };
  const cinemaRow = { name: cinema };
  cinemaRow.cinema_id = (await staff('POST', '/v1/cinemas', {
    city_id: cityRow.city_id, name: cinema, address: '上海市杨浦区淞沪路77号', latitude: 31.3, longitude: 121.51, postal_code: '200433',
    refund_policy: policy,
  })).id;
  const layout = { rows: (rows ?? ['RRRR_RRRRRR_RRRR', 'RRRR_RRRRRR_RRRR', 'RRRR_PPPPPP_RRRR', 'RRRR_PPPPPP_RRRR', 'WC__RRRRRR__CW']).map((cells, i) => ({ label: rowLabel(i), cells })) };
  const hall = { hall_id: '' };
  hall.hall_id = (await staff('POST', `/v1/cinemas/${cinemaRow.cinema_id}/halls`, {
    name: '1号厅 IMAX', layout,
    prices: Object.fromEntries(
      [['R', 'regular', 4500], ['P', 'premium', 8000], ['W', 'accessible', 4500], ['C', 'accessible', 4500]]
        .filter(([cell]) => layout.rows.some((r) => r.cells.includes(cell)))
        .map(([, category, minor]) => [category, { amount_minor: minor, currency: 'CNY' }]),
    ),
  })).id;
  const movieRow = { title: movie };
  movieRow.movie_id = (await staff('POST', '/v1/movies', {
    title: movie, original_title: original, description: '太阳即将毁灭，人类再次启程。', duration_minutes: 120,
    genres: ['sci-fi'], language: 'zh', country: 'CN', release_date: '2026-01-29',
  })).id;
  const date = shanghaiDate(1);
  const starts = new Date(`${date}T${String(hour).padStart(2, '0')}:00:00+08:00`).toISOString();
  const show = await staff('POST', '/v1/shows', { movie_id: movieRow.movie_id, hall_id: hall.hall_id, starts_at: starts });
  // The booking side finds the show once the catalogue read models have it.
  await eventually('the show in search', async () => {
    const hits = await api(server.baseUrl, 'GET', `/v1/movies/search?city=${cityRow.city_id}&date=${date}`);
    return hits.hits.some((h) => h.movie.movie_id === movieRow.movie_id);
  });
  return { city: cityRow, cinema: cinemaRow, hall, movie: movieRow, show, date };
}

/** A, B, ... Z, AA, AB, ...: row labels as halls write them. */
function rowLabel(i) {
  const letter = (n) => String.fromCharCode(65 + n);
  return i < 26 ? letter(i) : letter(Math.floor(i / 26) - 1) + letter(i % 26);
}

let accounts = 0;
/** A registered account with `roles` (an admin sets them), and its password. */
export async function account(server, roles = ['customer'], name = 'Test') {
  accounts += 1;
  const email = `${name.toLowerCase().replace(/\W/g, '')}${accounts}.${process.pid}@example.com`;
  const password = 'correct horse battery';
  const session = await api(server.baseUrl, 'POST', '/v1/auth/register', { email, password, display_name: name });
  if (roles.join() !== 'customer') {
    await api(server.baseUrl, 'PUT', `/v1/accounts/${session.account.account_id}/roles`, { roles }, server.admin);
  }
  const fresh = await api(server.baseUrl, 'POST', '/v1/auth/login', { email, password });
  return { email, password, session: fresh };
}

/** A browser context whose booking app is already signed in as `who` (from `account`). */
const contexts = new Set();

export async function signedIn(browser, who, options = {}) {
  const context = await browser.newContext({ locale: 'en-GB', ...options });
  // Closed when the test's server stops: no page of one test follows streams or polls
  // into the next (whose server may get the same port).
  contexts.add(context);
  context.on('close', () => contexts.delete(context));
  if (who) {
    await context.addInitScript(
      ([session]) => {
        if (!localStorage.getItem('boxoffice.session')) localStorage.setItem('boxoffice.session', session);
        if (!localStorage.getItem('boxoffice.lang')) localStorage.setItem('boxoffice.lang', 'en');
      },
      [JSON.stringify(who.session)],
    );
  } else {
    await context.addInitScript(() => {
      if (!localStorage.getItem('boxoffice.lang')) localStorage.setItem('boxoffice.lang', 'en');
    });
  }
  context.setDefaultTimeout(DEADLINE);
  return context;
}

export async function launch() {
  const executablePath = process.env.CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(existsSync);
  if (!executablePath) throw new Error('no Chromium: install Debian\'s `chromium` (scripts/test does, as root)');
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/** Presses Tab until the focused element matches `selector` (keyboard only: no clicks). */
export async function tabTo(page, selector, presses = 80) {
  for (let i = 0; i < presses; i += 1) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** The seat's state as the page draws it (`available`, `selected`, `held`, `sold`, `mine`). */
export function seatState(page, seat) {
  return page.locator(`[data-seat="${seat}"]`).getAttribute('data-status');
}

/** A paid order for `who`, made through the API and the sandbox's pay form. */
export async function paidOrder(server, who, showId, seats) {
  const bearer = who.session.access_token;
  const hold = await api(server.baseUrl, 'POST', `/v1/shows/${showId}/holds`, { seats }, bearer);
  const payment = await api(server.baseUrl, 'POST', `/v1/shows/${showId}/holds/${hold.hold_id}/payments`, { method: 'alipay' }, bearer);
  const paid = await fetch(payment.pay_url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'outcome=succeed' });
  if (!paid.ok) throw new Error(`the sandbox answered ${paid.status}`);
  return eventually('the order', async () => {
    const p = await api(server.baseUrl, 'GET', `/v1/me/payments/${payment.payment_id}`, undefined, bearer);
    return p.order_id ? p : null;
  });
}
