import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const INDEX = '<!doctype html><title>TicketPulse</title><div id="root"></div>';
const ASSET = 'console.log("storefront")';
const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

// Static files do not depend on the database: one driver is enough.
describe('serving the built storefront', () => {
  let t: TestDatabase;
  let dist: string;
  let server: TestServer;

  beforeAll(async () => {
    t = await createTestDatabase('pglite');
    dist = await mkdtemp(join(tmpdir(), 'storefront-'));
    await mkdir(join(dist, 'assets'));
    await writeFile(join(dist, 'index.html'), INDEX);
    await writeFile(join(dist, 'assets', 'index-3f2a9c.js'), ASSET);
    await writeFile(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    server = await startTestServer(t.db, { storefrontDir: dist });
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
    await rm(dist, { recursive: true, force: true });
  });

  it.each(['/', '/events/midnight-jazz-session', '/organizer?event=midnight-jazz-session', '/some/unknown/page'])(
    'answers the navigation %s with index.html, revalidated every time',
    async (path) => {
      const response = await server.request('GET', path, { headers: HTML });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.body).toBe(INDEX);
    },
  );

  it('serves hashed assets with long immutable caching, and top-level files', async () => {
    const asset = await server.request('GET', '/assets/index-3f2a9c.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.body).toBe(ASSET);
    const icon = await server.request('GET', '/favicon.svg', { headers: { accept: 'image/*' } });
    expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
  });

  it.each([
    ['GET', '/api/nope'],
    ['GET', '/api'],
    ['GET', '/realtime'],
    ['GET', '/metrics/extra'],
    ['GET', '/assets/missing-1a2b.js'],
    ['GET', '/missing.png'],
    ['POST', '/events/midnight-jazz-session'],
  ])('keeps the JSON 404 for %s %s, even for a browser', async (method, path) => {
    const response = await server.request(method, path, { headers: HTML });
    expect([response.status, response.body.error.code]).toEqual([404, 'not_found']);
  });

  it('leaves the API and health routes as they are', async () => {
    expect((await server.request('GET', '/api/events', { headers: HTML })).body).toEqual({ events: [] });
    expect((await server.request('GET', '/healthz', { headers: HTML })).body).toEqual({ status: 'ok' });
    expect((await server.request('GET', '/metrics')).status).toBe(200);
  });

  it('keeps the JSON index at / when there is no built storefront', async () => {
    const missing = await startTestServer(t.db, { storefrontDir: join(dist, 'no-such-folder') });
    try {
      const response = await missing.request('GET', '/', { headers: HTML });
      expect(response.body).toMatchObject({ service: 'TicketPulse', events: '/api/events' });
      expect((await missing.request('GET', '/events/x', { headers: HTML })).status).toBe(404);
    } finally {
      await missing.close();
    }
  });
});
