/**
 * Scenario 7: what the SDK costs every buyer's browser, min+gzip, beside the
 * client a Socket.IO shop would ship (the fan-out scenario's baseline).
 */
import { measureBundle, WORKSPACE_SOURCES } from '../../scripts/bundle-size.ts';
import type { Scenario } from '../harness/scenario.ts';

const KB = 1024;
const REACT = ['react', 'react-dom', 'react/jsx-runtime'];
const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;

export const clientSize: Scenario = {
  name: 'client-size',
  title: 'Client size',
  async run(ctx) {
    ctx.progress('bundling with esbuild (ESM, minified, tree-shaken)');
    // From the sources, so a benchmark run needs no build.
    // The core as an app gets it (issue 4's "core"): the manager alone, tree-shaken, as scripts/bundle-size.ts budgets it.
    const core = await measureBundle('packages/client/src/index.ts', [], WORKSPACE_SOURCES, ['TicketAvailabilityManager']);
    const react = await measureBundle('packages/react/src/index.ts', [...REACT, '@ticketpulse/client'], WORKSPACE_SOURCES);
    // The design's hooks and components, as scripts/bundle-size.ts budgets them since useMyOffers came.
    const designHooks = ['useTicketAvailability', 'useSingleTicketAvailability', 'ConnectionStatus', 'TicketAvailabilityIndicator', 'TicketAvailabilityBadge'];
    const reactDesign = await measureBundle('packages/react/src/index.ts', [...REACT, '@ticketpulse/client'], WORKSPACE_SOURCES, designHooks);
    const socketIo = await measureBundle('bench/baselines/socket-io-client.ts');
    const rows: Array<[string, number, number]> = [
      ['@ticketpulse/client (core SDK)', core.minified, core.gzipped],
      ['@ticketpulse/react (design hooks: useTicketAvailability, useSingleTicketAvailability, ConnectionStatus, TicketAvailabilityIndicator, TicketAvailabilityBadge)', reactDesign.minified, reactDesign.gzipped],
      ['@ticketpulse/react (everything, without React and the core)', react.minified, react.gzipped],
      ['baseline: socket.io-client', socketIo.minified, socketIo.gzipped],
    ];
    return {
      config: { bundler: 'esbuild', format: 'esm', minify: true, target: 'es2022' },
      table: {
        columns: ['bundle', 'min bytes', 'min+gzip bytes'],
        rows: rows.map(([name, min, gz]) => [name, min, gz]),
      },
      ratios: [{ name: 'client core min+gzip, TicketPulse / socket.io-client', value: core.gzipped / socketIo.gzipped }],
      goals: [
        { goal: 'client core at most 8 KB min+gzip', measured: kb(core.gzipped), met: core.gzipped <= 8 * KB },
        { goal: "React design hooks at most 3 KB min+gzip (the design's budget)", measured: kb(reactDesign.gzipped), met: reactDesign.gzipped <= 3 * KB },
        { goal: 'React package, everything, at most 4 KB min+gzip', measured: kb(react.gzipped), met: react.gzipped <= 4 * KB },
      ],
      checks: [{ check: 'bundles build', ok: core.gzipped > 0 && react.gzipped > 0, detail: `${kb(core.gzipped)} and ${kb(react.gzipped)}` }],
      notes: [
        'The core SDK (an app importing TicketAvailabilityManager) includes reconnect with backoff, resync by version, polling fallback, optimistic holds and the waiting room; holds and their countdowns come on top when imported.',
        "The React budget is split since useMyOffers (issue 16, the personal feed): the design's hooks and components stay within 3 KB; the whole package (useReservation, useQueue, useMyOffers too) within 4 KB. The whole client (scripts/bundle-size.ts) went from 10 KB to 11 KB for the personal feed that ReservationExpiryManager and onOffer bring; an app importing only the manager gets none of it.",
      ],
    };
  },
};
