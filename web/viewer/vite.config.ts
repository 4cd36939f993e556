/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The viewer is one entry (src/main.ts) built into the folder the Go binary embeds
// (internal/web/dist/viewer), with stable names: the Go page links viewer.js and viewer.css and
// adds a content hash as ?v= itself.
export default defineConfig({
  base: '/embed/assets/',
  resolve: {
    alias: { debug: fileURLToPath(new URL('./shims/debug.cjs', import.meta.url)) },
  },
  build: {
    outDir: fileURLToPath(new URL('../../internal/web/dist/viewer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    cssCodeSplit: false,
    modulePreload: false,
    // One file with ECharts inside (about 210 KB gzip); the budget is 250 KB gzip.
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      input: fileURLToPath(new URL('./src/main.ts', import.meta.url)),
      output: {
        entryFileNames: 'viewer.js',
        chunkFileNames: 'viewer-[name].js',
        assetFileNames: (info) => (info.names?.some((n) => n.endsWith('.css')) ? 'viewer.css' : '[name][extname]'),
      },
    },
  },
  test: {
    environment: 'node',
  },
});
