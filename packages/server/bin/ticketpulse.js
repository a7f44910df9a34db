#!/usr/bin/env node
// Installed from npm, runs the compiled dist/. In a checkout of the repository
// (src/ beside bin/), runs the TypeScript sources through tsx, a devDependency,
// with the workspace packages' sources too: no build step to forget.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../../../scripts/workspace-sources.mjs');
  await import(sources.href);
} else {
  await import('../dist/cli.js');
}
