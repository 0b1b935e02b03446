import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Relative asset paths, so the built page works from any folder or static host.
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  // Unit tests of the page's pure logic; the browser tests in e2e/ run under node --test instead.
  test: { include: ['test/**/*.test.ts'], environment: 'node' },
});
