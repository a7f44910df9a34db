import { defaultClientConditions, defineConfig } from 'vite';

// The API and the realtime gateway live on one origin in production (the server serves dist/);
// in development they are proxied to a running server.
const target = process.env['VITE_API_TARGET'] ?? 'http://localhost:3000';

export default defineConfig({
  esbuild: { jsx: 'automatic' },
  // The workspace packages' TypeScript sources (their exports' "@ticketpulse/source" condition): no package build first.
  resolve: { conditions: ['@ticketpulse/source', ...defaultClientConditions] },
  server: {
    proxy: {
      '/api': { target, changeOrigin: true },
      '/realtime': { target, changeOrigin: true, ws: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rolldownOptions: {
      onwarn(warning, warn) {
        // TanStack Query marks its hooks "use client" for server components; a client-only bundle has nothing to preserve.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});
