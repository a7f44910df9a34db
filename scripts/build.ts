/**
 * Bundles the client packages the way an application would (ESM, minified,
 * tree-shaken) and prints their sizes. Fails when the core SDK passes its
 * budget: it ships to every buyer's browser.
 *
 *   npm run build
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const CORE_BUDGET_BYTES = 8 * 1024;

interface Target {
  name: string;
  entry: string;
  external: string[];
  budget?: number;
}

const targets: Target[] = [
  { name: '@ticketpulse/client (everything)', entry: 'packages/client/src/index.ts', external: [], budget: CORE_BUDGET_BYTES },
  { name: '@ticketpulse/react (+ client, no React)', entry: 'packages/react/src/index.ts', external: ['react', 'react-dom', 'react/jsx-runtime'] },
];

async function measure(target: Target) {
  const result = await build({
    entryPoints: [target.entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: target.external,
    write: false,
    loader: { '.css': 'empty' },
  });
  const code = result.outputFiles[0]!.contents;
  return { ...target, minified: code.byteLength, gzipped: gzipSync(code).byteLength, code };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

const results = await Promise.all(targets.map(measure));
await mkdir('dist', { recursive: true });
console.log('bundle                                 min        min+gzip   budget');
let failed = false;
for (const r of results) {
  await writeFile(`dist/${r.entry.split('/')[1]}.min.js`, r.code);
  const over = r.budget !== undefined && r.gzipped > r.budget;
  failed ||= over;
  console.log(`${r.name.padEnd(38)} ${kb(r.minified).padStart(9)}  ${kb(r.gzipped).padStart(9)}   ${r.budget ? `${kb(r.budget)}${over ? '  OVER' : ''}` : '-'}`);
}
if (failed) {
  console.error('build: the core SDK is over its size budget');
  process.exit(1);
}
