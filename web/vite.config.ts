import { defineConfig } from 'vite';

// Everything the page loads comes from its own origin: no CDN, no remote fonts.
export default defineConfig({
  base: '/',
  // `npm run dev`: the API is the node's, proxied so the page keeps one origin.
  server: {
    proxy: { '/v1': process.env.PLEXUS_NODE ?? 'http://127.0.0.1:7070' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
  },
});
