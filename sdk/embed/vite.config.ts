import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Two builds from one source:
// - default mode: the npm package, ESM, @looker/chatty left as a dependency (dist/index.js);
// - `--mode bundle`: one self-contained, minified ES module that Inlay serves at
//   /sdk/inlay-embed.js (written into the Go server's embedded dist folder).
export default defineConfig(({ mode }) => {
  const bundle = mode === 'bundle';
  return {
    build: {
      lib: {
        entry: resolve(import.meta.dirname, 'src/index.ts'),
        formats: ['es'],
        fileName: () => (bundle ? 'inlay-embed.js' : 'index.js'),
      },
      outDir: bundle ? resolve(import.meta.dirname, '../../internal/web/dist/sdk') : 'dist',
      // The bundle folder sits inside a tree other builds write to: never wipe it.
      emptyOutDir: !bundle,
      minify: bundle,
      sourcemap: !bundle,
      target: 'es2020',
      rollupOptions: {
        external: bundle ? [] : [/^@looker\/chatty/],
      },
    },
    test: {
      environment: 'jsdom',
      include: ['test/**/*.test.ts'],
    },
  };
});
