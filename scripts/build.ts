/**
 * Bundles the client packages the way an application would (ESM, minified,
 * tree-shaken) and prints their sizes. Fails when the core SDK or the React
 * package passes its budget: they ship to every buyer's browser.
 *
 *   npm run build
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { measureBundle } from './bundle-size.ts';

const KB = 1024;
const REACT = ['react', 'react-dom', 'react/jsx-runtime'];

interface Target {
  name: string;
  entry: string;
  external: string[];
  budget?: number;
}

const targets: Target[] = [
  { name: '@ticketpulse/client (everything)', entry: 'packages/client/src/index.ts', external: [], budget: 8 * KB },
  { name: '@ticketpulse/react (alone)', entry: 'packages/react/src/index.ts', external: [...REACT, '@ticketpulse/client'], budget: 3 * KB },
  { name: '@ticketpulse/react (+ client, no React)', entry: 'packages/react/src/index.ts', external: REACT },
  // Only Supabase apps load it; supabase-js is theirs already (the transport imports only its types).
  { name: '@ticketpulse/client/supabase', entry: 'packages/client/src/supabase/index.ts', external: ['@supabase/supabase-js'], budget: 2 * KB },
];

async function measure(target: Target) {
  return { ...target, ...(await measureBundle(target.entry, target.external)) };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

const results = await Promise.all(targets.map(measure));
await mkdir('dist', { recursive: true });
console.log('bundle                                 min        min+gzip   budget');
let failed = false;
for (const r of results) {
  await writeFile(`dist/${r.name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}.min.js`, r.code);
  const over = r.budget !== undefined && r.gzipped > r.budget;
  failed ||= over;
  console.log(`${r.name.padEnd(38)} ${kb(r.minified).padStart(9)}  ${kb(r.gzipped).padStart(9)}   ${r.budget ? `${kb(r.budget)}${over ? '  OVER' : ''}` : '-'}`);
}
if (failed) {
  console.error('build: a client package is over its size budget');
  process.exit(1);
}
