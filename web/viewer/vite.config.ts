/// <reference types="vitest/config" />
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { defineConfig } from 'vite';
import type { Plugin } from 'vite';

// Writes name.gz next to every script and stylesheet, so Inlay serves them compressed without
// compressing at run time (internal/web).
function gzipAssets(): Plugin {
  return {
    name: 'inlay-gzip-assets',
    apply: 'build',
    // writeBundle sees the files as written (generateBundle may run before Vite's last rewrites).
    writeBundle(options, bundle) {
      for (const fileName of Object.keys(bundle)) {
        if (!/\.(js|css)$/.test(fileName)) continue;
        const file = path.join(options.dir!, fileName);
        writeFileSync(`${file}.gz`, gzipSync(readFileSync(file), { level: 9 }));
      }
    },
  };
}

// The viewer is one entry (src/main.ts) built into the folder the Go binary embeds
// (internal/web/dist/viewer). ECharts is a chunk of its own (src/lazy-charts.ts). Every file is
// named by its content hash, so browsers may cache it for good; the Go page finds the entry,
// its stylesheet and the chunks to preload in the manifest (.vite/manifest.json).
export default defineConfig({
  plugins: [gzipAssets()],
  base: '/embed/assets/',
  resolve: {
    alias: { debug: fileURLToPath(new URL('./shims/debug.cjs', import.meta.url)) },
  },
  build: {
    outDir: fileURLToPath(new URL('../../internal/web/dist/viewer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: false, // the Go page links the charts chunk as modulepreload itself
    manifest: true,
    // The charts chunk is most of the viewer (about 180 KB gzip); the budget is 250 KB in all.
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      input: fileURLToPath(new URL('./src/main.ts', import.meta.url)),
      output: {
        entryFileNames: 'viewer-[hash].js',
        chunkFileNames: 'chunks/[name]-[hash].js',
        assetFileNames: 'viewer-[hash][extname]',
      },
    },
  },
  test: {
    environment: 'node',
  },
});
