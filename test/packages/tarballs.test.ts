/**
 * The packages as users get them: `npm pack` each one, install the tarballs
 * into fresh projects outside the repository (the examples, copied), and use
 * them against the service started from its own tarball.
 *
 *   npm run test:packages      (builds first; .ci/run runs it after npm test)
 *
 * (a) plain Node imports @ticketpulse/client and follows live counts over `ws`
 *     (examples/node-watch), and over supabase-js (examples/supabase);
 * (b) a TypeScript consumer type-checks under moduleResolution node16 and bundler;
 * (c) a Vite + React app (examples/vite-react) builds, the bundle budgets hold
 *     for the installed packages' built files, and the page shows live counts
 *     in Chromium;
 * (d) the server, installed in an empty folder, starts with --demo --memory and
 *     serves /readyz, the shop and the dashboard, with no tsx installed.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measurePackages, sizeTable } from '../../scripts/bundle-size.ts';
import { cleanEnv, freePort, poll, Program, run } from './processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// As in the storefront's browser tests: CI installs Chromium (.ci/run), so there a missing one fails; elsewhere the browser check skips.
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI !== 'true') console.log(`\nSkipping the browser check of examples/vite-react: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH).\n`);
const PACKAGES = ['protocol', 'client', 'react', 'server'] as const;
/** The ordinary demo event: enough seats for every test's hold. */
const EVENT = 'summer-sound-festival';
const TICKET_TYPE = 'General Admission';

let tmp: string;
const tarballs = {} as Record<(typeof PACKAGES)[number], string>;
const programs: Program[] = [];
let service: Program;
let base: string;
/** Every project, installing side by side from the start; each test awaits its own. */
let installing: Record<'service' | 'nodeWatch' | 'supabase' | 'types' | 'viteReact', Promise<string>>;

/** Copies `from` (an example or fixture, or nothing: an empty folder) to a fresh project and installs the tarballs and `extra` there. */
async function project(name: string, from: string | undefined, packages: (typeof PACKAGES)[number][], extra: string[] = []): Promise<string> {
  const dir = join(tmp, name);
  if (from) cpSync(join(ROOT, from), dir, { recursive: true, filter: (path) => !/node_modules|dist$/.test(path) });
  else mkdirSync(dir);
  const specs = [...packages.map((p) => tarballs[p]), ...extra];
  await run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs], { cwd: dir, timeoutMs: 180_000 });
  return dir;
}

function start(name: string, command: string[], cwd: string, env: Record<string, string> = {}): Program {
  const program = new Program(name, process.execPath, command, { cwd, env: cleanEnv(env) });
  programs.push(program);
  return program;
}

async function api<T>(path: string, init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
  const response = await fetch(base + path, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
      ...(init.token && { authorization: `Bearer ${init.token}` }),
      ...init.headers,
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

interface Availability {
  eventId: string;
  tickets: { ticketTypeId: string; ticketTypeName: string; actualAvailable: number | null }[];
}

/** Holds one General Admission seat through the HTTP API, as a buyer with a dev token; returns the seats left after it. */
async function holdOneSeat(): Promise<number> {
  const { token } = await api<{ token: string }>('/api/auth/dev-token', { method: 'POST' });
  const { tickets } = await api<Availability>(`/api/events/${EVENT}/availability`);
  const type = tickets.find((t) => t.ticketTypeName === TICKET_TYPE)!;
  const { reservation } = await api<{ reservation: { id: string } }>(`/api/events/${EVENT}/reservations`, {
    method: 'POST',
    token,
    headers: { 'idempotency-key': randomUUID() },
    body: { items: [{ ticketTypeId: type.ticketTypeId, quantity: 1 }] },
  });
  expect(reservation.id).toBeTruthy();
  return type.actualAvailable! - 1;
}

/** Seats left of General Admission in a line an example printed (`General Admission: 499 left`). */
const SEATS_LEFT = new RegExp(`${TICKET_TYPE}: (\\d+) left`);

/** An example that prints live counts shows the current count, then the count after a hold made elsewhere. */
async function followsAHold(program: Program): Promise<void> {
  const first = await program.waitFor(SEATS_LEFT, 'first counts', 60_000);
  const from = program.output().length;
  const left = await holdOneSeat();
  expect(Number(first[1])).toBe(left + 1);
  await program.waitFor(new RegExp(`${TICKET_TYPE}: ${left} left`), `the count after the hold (${left} left)`, 30_000, from);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ticketpulse-tarballs-'));
  const packs = join(tmp, 'packs');
  mkdirSync(packs);
  const workspaces = PACKAGES.flatMap((p) => ['-w', `@ticketpulse/${p}`]);
  const packed = JSON.parse(await run(NPM, ['pack', '--json', '--pack-destination', packs, ...workspaces], { cwd: ROOT, timeoutMs: 120_000 })) as {
    name: string;
    filename: string;
  }[];
  for (const { name, filename } of packed) tarballs[name.replace('@ticketpulse/', '') as (typeof PACKAGES)[number]] = join(packs, filename);
  expect(Object.keys(tarballs).sort()).toEqual([...PACKAGES].sort());
  installing = {
    service: project('service', undefined, ['protocol', 'server']),
    nodeWatch: project('node-watch', 'examples/node-watch', ['protocol', 'client']),
    supabase: project('supabase', 'examples/supabase', ['protocol', 'client']),
    types: project('types', 'test/packages/types', ['protocol', 'client', 'react'], ['typescript@~5.9', '@types/node@^20', '@types/react@^19', 'react@^19', '@supabase/supabase-js@^2']),
    viteReact: project('vite-react', 'examples/vite-react', ['protocol', 'client', 'react']),
  };
  // Awaited by their tests; a failure is reported there, not as an unhandled rejection here.
  for (const install of Object.values(installing)) install.catch(() => {});
}, 150_000);

afterAll(async () => {
  await Promise.all(programs.map((p) => p.stop()));
  if (tmp) await rm(tmp, { recursive: true, force: true });
}, 30_000);

describe('the tarballs', () => {
  it('carry built JavaScript with types, the React styles, the SQL and the storefront, and no sources', async () => {
    const list = async (pkg: (typeof PACKAGES)[number]) => (await run('tar', ['tzf', tarballs[pkg]], { cwd: tmp, timeoutMs: 30_000 })).split('\n');
    const [protocol, client, react, server] = (await Promise.all(PACKAGES.map(list))) as [string[], string[], string[], string[]];
    expect(protocol).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/schemas.js', 'package/README.md', 'package/LICENSE']));
    expect(client).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/index.js.map', 'package/dist/supabase/index.js', 'package/dist/supabase/index.d.ts']));
    expect(react).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/styles.css']));
    expect(server).toEqual(expect.arrayContaining(['package/bin/ticketpulse.js', 'package/dist/cli.js', 'package/dist/db/migrations/0001_schema.sql', 'package/storefront/index.html']));
    expect(server.filter((f) => f.startsWith('package/dist/db/repeatable/') && f.endsWith('.sql')).length).toBeGreaterThan(0);
    for (const files of [protocol, client, react, server]) expect(files.filter((f) => /^package\/src\/|tsbuildinfo/.test(f))).toEqual([]);
  });
});

describe('the service from its tarball, in an empty folder', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await installing.service;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const launched = Date.now();
    service = start('ticketpulse start --demo --memory', [join(dir, 'node_modules/.bin/ticketpulse'), 'start', '--demo', '--memory'], dir, {
      PORT: String(port),
      HOST: '127.0.0.1',
      TICKETPULSE_DATA_DIR: join(dir, 'data'),
    });
    await poll('GET /readyz answering 200', 120_000, async () => {
      if (service.child.exitCode !== null) throw new Error(`the service exited (${service.child.exitCode}):\n${service.output()}`);
      return (await fetch(`${base}/readyz`)).ok || undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}\nThe service's output:\n${service.output()}`);
    });
    console.log(`tarball: ticketpulse start --demo --memory ready (GET /readyz 200) ${((Date.now() - launched) / 1000).toFixed(1)} s after launch`);
  }, 300_000);

  it('(d) serves /readyz, the shop and the dashboard, and the demo events, without tsx', async () => {
    expect(await api('/readyz')).toMatchObject({ status: 'ok' });
    for (const path of ['/', '/organizer', `/events/${EVENT}`]) {
      const page = await fetch(base + path);
      expect(page.status, path).toBe(200);
      const html = await page.text();
      expect(html).toContain('<div id="root">');
      const script = /<script type="module"[^>]* src="([^"]+)"/.exec(html)?.[1];
      expect(script, `${path}: the page's script`).toBeTruthy();
      expect((await fetch(base + script)).status).toBe(200);
    }
    const { events } = await api<{ events: { slug: string }[] }>('/api/events');
    expect(events.map((e) => e.slug).sort()).toEqual(['midnight-jazz-session', 'neon-skyline-arena', 'open-air-cinema', 'summer-sound-festival']);
    expect(existsSync(join(dir, 'node_modules/tsx'))).toBe(false);
    expect(readdirSync(join(dir, 'node_modules/@ticketpulse')).sort()).toEqual(['protocol', 'server']);
  });

  describe('with the SDK from its tarballs', () => {
    it('(a) plain Node follows live counts over ws: examples/node-watch', async () => {
      const dir = await installing.nodeWatch;
      await followsAHold(start('examples/node-watch', ['watch.mjs', EVENT], dir, { TICKETPULSE_URL: base }));
    }, 240_000);

    it('SupabaseTransport follows live counts through supabase-js: examples/supabase', async () => {
      const dir = await installing.supabase;
      const { eventId } = await api<Availability>(`/api/events/${EVENT}/availability`);
      await followsAHold(start('examples/supabase', ['watch.mjs', eventId], dir, { SUPABASE_URL: base }));
    }, 240_000);

    it('(b) a TypeScript app type-checks against the published types, under moduleResolution node16 and bundler', async () => {
      const dir = await installing.types;
      const tsc = join(dir, 'node_modules/typescript/bin/tsc');
      for (const config of ['tsconfig.node16.json', 'tsconfig.bundler.json']) {
        await run(process.execPath, [tsc, '-p', config], { cwd: dir, timeoutMs: 120_000 });
      }
    }, 360_000);

    describe('(c) examples/vite-react', () => {
      let dir: string;

      beforeAll(async () => {
        dir = await installing.viteReact;
      }, 240_000);

      it('builds, and the installed packages keep their bundle budgets', async () => {
        await run(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], { cwd: dir, timeoutMs: 120_000 });
        expect(existsSync(join(dir, 'dist/index.html'))).toBe(true);
        const sizes = await measurePackages((pkg) => join(dir, 'node_modules', pkg));
        console.log(`tarball bundle sizes (from the installed packages' dist/):\n${sizeTable(sizes)}`);
        expect(sizes.filter((s) => s.over).map((s) => s.name)).toEqual([]);
      }, 180_000);

      it.skipIf(!hasChromium && process.env.CI !== 'true')('shows live counts in a browser, and a hold made elsewhere', async () => {
        const port = await freePort();
        const preview = start('vite preview', ['node_modules/vite/bin/vite.js', 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], dir, {
          TICKETPULSE_URL: base,
        });
        await preview.waitFor(/127\.0\.0\.1:\d+/, 'vite preview listening', 60_000);
        let browser: Browser | undefined;
        try {
          browser = await chromium.launch({ executablePath: CHROMIUM });
          const page = await browser.newPage();
          await page.goto(`http://127.0.0.1:${port}/?event=${EVENT}`);
          const seats = page.locator(`[data-ticket-type="${TICKET_TYPE}"] .seats-left`);
          await seats.waitFor({ timeout: 60_000 });
          const shown = Number(await seats.textContent());
          const left = await holdOneSeat();
          expect(shown).toBe(left + 1);
          await page.waitForFunction(
            ([selector, expected]) => document.querySelector(selector!)?.textContent === expected,
            [`[data-ticket-type="${TICKET_TYPE}"] .seats-left`, String(left)],
            { timeout: 30_000 },
          );
        } finally {
          await browser?.close();
        }
      }, 180_000);
    });
  });
});
