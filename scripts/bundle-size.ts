/** Bundles an entry the way an application would (ESM, minified, tree-shaken) and measures it. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface BundleSize {
  code: Uint8Array;
  minified: number;
  gzipped: number;
}

/** Resolves the workspace packages to their TypeScript sources (their exports' condition), for measuring without a build. */
export const WORKSPACE_SOURCES = ['@ticketpulse/source'];

/**
 * `imports`: bundle an app that uses only these exports of `entry` (what
 * tree-shaking leaves it), instead of the whole entry.
 */
export async function measureBundle(entry: string, external: string[] = [], conditions: string[] = [], imports?: string[]): Promise<BundleSize> {
  const result = await build({
    ...(imports
      ? { stdin: { contents: `export { ${imports.join(', ')} } from ${JSON.stringify(resolve(entry))};`, resolveDir: process.cwd() } }
      : { entryPoints: [entry] }),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external,
    // Given conditions replace esbuild's default ("module"), so it is named again.
    ...(conditions.length > 0 && { conditions: [...conditions, 'module'] }),
    write: false,
    loader: { '.css': 'empty' },
  });
  const code = result.outputFiles[0]!.contents;
  return { code, minified: code.byteLength, gzipped: gzipSync(code).byteLength };
}

const KB = 1024;
const REACT = ['react', 'react-dom', 'react/jsx-runtime'];

/** A published entry point, bundled from its built JavaScript; those with a budget ship to every buyer's browser. */
export interface SizeTarget {
  name: string;
  pkg: string;
  /** The export, as in package.json `exports`. */
  entry: string;
  external: string[];
  /** Only these exports, as an app that imports them gets them (tree-shaken); the whole entry when absent. */
  imports?: string[];
  budget?: number;
}

export const SIZE_TARGETS: SizeTarget[] = [
  // Issue 4: "the core is at most 8 KB min+gzip": the manager as an app gets it. Holds, countdowns and the rest come on top when imported.
  { name: '@ticketpulse/client (core: the manager)', pkg: '@ticketpulse/client', entry: '.', external: [], imports: ['TicketAvailabilityManager'], budget: 8 * KB },
  // Everything includes the personal feed (its own socket, for ReservationExpiryManager and onOffer): 10 KB before it.
  { name: '@ticketpulse/client (everything)', pkg: '@ticketpulse/client', entry: '.', external: [], budget: 11 * KB },
  // The design's hooks and components, as an app that shows availability gets them; useReservation, useQueue and useMyOffers come on top.
  {
    name: '@ticketpulse/react (design hooks: useTicketAvailability, useSingleTicketAvailability, ConnectionStatus, TicketAvailabilityIndicator, TicketAvailabilityBadge)',
    pkg: '@ticketpulse/react',
    entry: '.',
    external: [...REACT, '@ticketpulse/client'],
    imports: ['useTicketAvailability', 'useSingleTicketAvailability', 'ConnectionStatus', 'TicketAvailabilityIndicator', 'TicketAvailabilityBadge'],
    budget: 3 * KB,
  },
  { name: '@ticketpulse/react (everything)', pkg: '@ticketpulse/react', entry: '.', external: [...REACT, '@ticketpulse/client'], budget: 4 * KB },
  { name: '@ticketpulse/react (+ client, no React)', pkg: '@ticketpulse/react', entry: '.', external: REACT },
  // Only Supabase apps load it; supabase-js is theirs already (the transport imports only its types).
  { name: '@ticketpulse/client/supabase', pkg: '@ticketpulse/client', entry: './supabase', external: ['@supabase/supabase-js'], budget: 2 * KB },
];

export interface SizeResult extends SizeTarget, BundleSize {
  over: boolean;
}

/**
 * Measures every target from the built files of the packages in `packageDir(pkg)`
 * (the workspace's packages/*, or a project's node_modules where the tarballs are installed).
 */
export async function measurePackages(packageDir: (pkg: string) => string): Promise<SizeResult[]> {
  return Promise.all(
    SIZE_TARGETS.map(async (target) => {
      const dir = packageDir(target.pkg);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports: Record<string, { import: string }> };
      const size = await measureBundle(join(dir, manifest.exports[target.entry]!.import), target.external, [], target.imports);
      return { ...target, ...size, over: target.budget !== undefined && size.gzipped > target.budget };
    }),
  );
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** The table `npm run build` prints. */
export function sizeTable(results: SizeResult[]): string {
  return [
    'bundle                                 min        min+gzip   budget',
    ...results.map(
      (r) => `${r.name.padEnd(38)} ${kb(r.minified).padStart(9)}  ${kb(r.gzipped).padStart(9)}   ${r.budget ? `${kb(r.budget)}${r.over ? '  OVER' : ''}` : '-'}`,
    ),
  ].join('\n');
}
