// Screenshots of each main page of the booking app at 375 px and 1,280 px wide, written
// under target/web-screenshots for people to look at (not asserted), in both languages;
// and two figures printed, not asserted: the page weight (JS + CSS as sent compressed) and
// the time to draw a 2,000-seat hall from the page's start.
import { join } from 'node:path';
import { account, api, catalogue, paidOrder, signedIn, SHOTS, startServer } from './harness.mjs';

export default async function ({ browser }) {
  const server = await startServer('shots');
  try {
    const scene = await catalogue(server);
    const who = await account(server, ['customer'], 'Gao');
    const payment = await paidOrder(server, who, scene.show.show_id, ['C6', 'C7']);
    // A big hall: 40 rows of 50 seats with two aisles.
    const rows = Array.from({ length: 40 }, (_, i) => (i >= 16 && i < 24 ? 'RRRRRRRRRR_PPPPPPPPPPPPPPPPPPPPPPPPPPPPPP_RRRRRRRRRR' : 'RRRRRRRRRR_RRRRRRRRRRRRRRRRRRRRRRRRRRRRRR_RRRRRRRRRR'));
    const big = await catalogue(server, { tag: 'b', rows, hour: 15, cinema: 'CGV影城(大悦城店)', movie: '哪吒之魔童闹海', original: 'Ne Zha 2' });

    const pages = [
      ['home', `/#/?date=${scene.date}`, '[data-testid="movie"]'],
      ['movie', `/#/movie/${scene.movie.movie_id}?date=${scene.date}`, '[data-testid="showtime"]'],
      ['seats', `/#/show/${scene.show.show_id}`, '[data-seat="A1"]'],
      ['orders', '/#/orders', '[data-testid="order"]'],
      ['order', `/#/orders/${payment.order_id}`, '[data-testid="pickup-code"]'],
      ['login', '/#/login', '[data-testid="login-form"]'],
      ['hall-2000', `/#/show/${big.show.show_id}`, '[data-seat="AN50"]'],
    ];
    for (const lang of ['en', 'zh']) {
      for (const width of [375, 1280]) {
        const context = await signedIn(browser, who, { viewport: { width, height: width < 600 ? 812 : 900 } });
        await context.addInitScript((l) => localStorage.setItem('boxoffice.lang', l), lang);
        const page = await context.newPage();
        for (const [name, path, ready] of pages) {
          await page.goto(server.baseUrl + path);
          await page.locator(ready).first().waitFor();
          await page.screenshot({ path: join(SHOTS, `booking-${name}-${lang}-${width}.png`), fullPage: true });
        }
        await context.close();
      }
    }

    // The page weight as a browser on this server receives it.
    const html = await (await fetch(server.baseUrl + '/')).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
    let compressed = 0;
    let raw = 0;
    for (const path of assets) {
      const br = await fetch(server.baseUrl + path, { headers: { 'accept-encoding': 'br' } });
      compressed += Number(br.headers.get('content-length') ?? (await br.arrayBuffer()).byteLength);
      raw += (await (await fetch(server.baseUrl + path, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer()).byteLength;
    }
    console.log(`  page weight (booking app, JS + CSS): ${(compressed / 1024).toFixed(1)} KiB compressed (Brotli), ${(raw / 1024).toFixed(1)} KiB raw, ${assets.length} files`);

    // The time to draw the 2,000-seat hall, from the navigation's start to every seat on screen.
    const map = await api(server.baseUrl, 'GET', `/v1/shows/${big.show.show_id}/seats`);
    const context = await signedIn(browser, who, { viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const drawn = [];
    for (let i = 0; i < 3; i += 1) {
      await page.goto(`${server.baseUrl}/#/show/${big.show.show_id}`);
      await page.reload();
      await page.waitForFunction((n) => document.querySelectorAll('button.seat[data-seat]').length === n, map.seats.length);
      drawn.push(await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(performance.now())))));
    }
    console.log(`  time to draw a ${map.seats.length}-seat hall (navigation start to painted, 3 loads): ${drawn.map((ms) => `${Math.round(ms)} ms`).join(', ')}`);
    await context.close();
    console.log(`  screenshots: ${SHOTS}`);
  } finally {
    await server.stop();
  }
}
