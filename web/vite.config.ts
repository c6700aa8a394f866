// Builds the booking app (index.html) and the dashboard (admin.html) into dist/, and writes a
// Brotli and a gzip copy beside each file, which the server sends to browsers that take them.
/* global process */
import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = fileURLToPath(new URL('.', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const precompress: Plugin = {
  name: 'precompress',
  apply: 'build',
  writeBundle() {
    for (const path of files(join(root, 'dist'))) {
      if (!/\.(html|js|css|svg|json)$/.test(path)) continue;
      const bytes = readFileSync(path);
      writeFileSync(`${path}.gz`, gzipSync(bytes, { level: 9 }));
      writeFileSync(
        `${path}.br`,
        brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
      );
    }
  },
};

// `npx vite` (development, with reloading) sends API calls on to a running server.
const api = process.env.BOXOFFICE_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root,
  base: '/',
  server: { proxy: { '/v1': api, '/sandbox': api } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: { index: join(root, 'index.html'), admin: join(root, 'admin.html') },
    },
  },
  plugins: [precompress],
});
