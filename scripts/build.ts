/**
 * Builds the packages for npm and checks the client bundles' sizes:
 *
 * - compiles protocol, client, react and server to dist/ (ESM, .d.ts, source
 *   maps) with `tsc -b tsconfig.build.json`;
 * - copies what the compiler does not: the LICENSE into each package, the React styles, the server's SQL
 *   (migrations and repeatable files, found beside dist/db/migrate.js at run
 *   time) and the built storefront (apps/storefront/dist, built before this by
 *   `npm run build`) into packages/server/storefront, which the server's
 *   tarball carries;
 * - bundles each client entry from its built files the way an application
 *   would and prints the sizes; fails when one passes its budget, since they
 *   ship to every buyer's browser.
 *
 *   npm run build
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { measurePackages, sizeTable } from './bundle-size.ts';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { stdio: 'inherit' });

cpSync('packages/react/src/styles.css', 'packages/react/dist/styles.css');
for (const pkg of ['protocol', 'client', 'react', 'server']) cpSync('LICENSE', `packages/${pkg}/LICENSE`);
for (const dir of ['migrations', 'repeatable']) {
  rmSync(`packages/server/dist/db/${dir}`, { recursive: true, force: true });
  cpSync(`packages/server/src/db/${dir}`, `packages/server/dist/db/${dir}`, { recursive: true });
}
rmSync('packages/server/storefront', { recursive: true, force: true });
if (existsSync('apps/storefront/dist/index.html')) cpSync('apps/storefront/dist', 'packages/server/storefront', { recursive: true });
else console.warn('build: apps/storefront/dist is not built (npm run build:storefront); the server package will carry no storefront');

const results = await measurePackages((pkg) => `packages/${pkg.replace('@ticketpulse/', '')}`);
mkdirSync('dist', { recursive: true });
for (const r of results) writeFileSync(`dist/${r.name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}.min.js`, r.code);
console.log(sizeTable(results));
if (results.some((r) => r.over)) {
  console.error('build: a client package is over its size budget');
  process.exit(1);
}
