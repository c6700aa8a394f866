// Runs the browser tests (web/tests/*.test.mjs, in name order), each against servers of its
// own making through `harness.mjs`; prints each one's outcome and exits 1 if any failed.
//   node tests/run.mjs [filter]      (npm test -- [filter])
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launch } from './harness.mjs';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(dir).filter((f) => f.endsWith('.test.mjs') && f.includes(filter)).sort();
const browser = await launch();
let failed = 0;
for (const file of files) {
  const started = Date.now();
  const test = await import(new URL(file, import.meta.url));
  try {
    await test.default({ browser });
    console.log(`ok   ${file} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${file}: ${error.stack ?? error}`);
  }
}
await browser.close();
console.log(`${files.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
