import { defineConfig } from 'vite';

// The page talks to TicketPulse on its own origin: `vite` and `vite preview`
// pass the API and the realtime WebSocket on to the service.
const target = process.env.TICKETPULSE_URL ?? 'http://localhost:3000';
const proxy = {
  '/api': { target, changeOrigin: true },
  '/realtime': { target, changeOrigin: true, ws: true },
};

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic' } },
  server: { proxy },
  preview: { proxy },
});
