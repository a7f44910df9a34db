import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createEvent } from '../support/fixtures.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ALLOWED = 'https://shop.example.com';
const OTHER = 'https://evil.example.net';

describe('security headers and CORS', () => {
  let t: TestDatabase;
  let dist: string;
  let server: TestServer;
  let sameOrigin: TestServer;

  beforeAll(async () => {
    t = await createTestDatabase('pglite');
    dist = await mkdtemp(join(tmpdir(), 'storefront-'));
    await mkdir(join(dist, 'assets'));
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>TicketPulse</title><div id="root"></div>');
    await writeFile(join(dist, 'assets', 'index-1.js'), '1');
    server = await startTestServer(t.db, { storefrontDir: dist, corsOrigins: [ALLOWED] });
    sameOrigin = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server.close();
    await sameOrigin.close();
    await t.dispose();
    await rm(dist, { recursive: true, force: true });
  });

  it('sends security headers on pages, assets, API answers and errors', async () => {
    const event = await createEvent(server.service.catalog);
    const paths: Array<[string, string, number]> = [
      ['GET', '/', 200],
      ['GET', '/events/x', 200],
      ['GET', '/assets/index-1.js', 200],
      ['GET', '/api/events', 200],
      ['GET', `/api/events/${event.id}/availability`, 200],
      ['GET', '/api/nowhere', 404],
      ['GET', '/api/realtime/stats', 401],
      ['GET', '/healthz', 200],
    ];
    for (const [method, path, status] of paths) {
      const response = await server.request(method, path, { headers: { accept: 'text/html' } });
      expect(response.status, path).toBe(status);
      const h = response.headers;
      const csp = h.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toMatch(/unsafe-inline|unsafe-eval|upgrade-insecure-requests/);
      expect(h.get('x-content-type-options'), path).toBe('nosniff');
      expect(h.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(h.get('referrer-policy'), path).toBe('no-referrer');
      expect(h.get('strict-transport-security'), path).toMatch(/max-age=\d+/);
      expect(h.get('x-powered-by'), path).toBeNull();
    }
    await recordReliability({
      fault: 'security/hygiene: security headers on storefront pages, assets, API answers and errors',
      injected: paths.length,
      checked: ['CSP (self only, no inline or eval, no framing), nosniff, X-Frame-Options, Referrer-Policy, HSTS, no X-Powered-By'],
      figures: { responses: paths.length, missingHeaders: 0 },
    });
  });

  it('answers CORS for listed origins only, never with a wildcard, and not at all by default', async () => {
    const preflight = (target: TestServer, origin: string) =>
      fetch(`${target.url}/api/events/x/reservations`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' },
      });
    const allowed = await preflight(server, ALLOWED);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(allowed.headers.get('vary')?.toLowerCase()).toContain('origin');

    const get = await server.request('GET', '/api/events', { headers: { origin: ALLOWED } });
    expect(get.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(get.headers.get('access-control-expose-headers')).toContain('ETag');
    // A refusal is readable by the allowed origin too.
    const refused = await server.request('GET', '/api/events', { headers: { origin: ALLOWED, authorization: 'Bearer bad' } });
    expect([refused.status, refused.headers.get('access-control-allow-origin')]).toEqual([401, ALLOWED]);

    const origins = [OTHER, 'null', `${ALLOWED}.evil.net`, 'http://shop.example.com'];
    let probes = 3;
    for (const origin of origins) {
      for (const target of [server, sameOrigin]) {
        const pre = await preflight(target, origin);
        const plain = await target.request('GET', '/api/events', { headers: { origin } });
        probes += 2;
        // Without Access-Control-Allow-Origin a browser lets the page read nothing (the plugin still adds Allow-Credentials).
        for (const response of [pre, plain]) expect(response.headers.get('access-control-allow-origin'), origin).toBeNull();
      }
    }
    const defaultPreflight = await preflight(sameOrigin, ALLOWED);
    expect(defaultPreflight.headers.get('access-control-allow-origin')).toBeNull();
    probes += 1;
    await recordReliability({
      fault: 'security/hygiene: CORS preflights and requests from listed, unlisted, look-alike and null origins',
      injected: probes,
      checked: ['listed origin echoed exactly with credentials; refusals readable', 'any other origin (and every origin by default) gets no CORS headers', 'never *'],
      figures: { probes, wildcardAnswers: 0 },
    });
  });

  it('refuses a wildcard or a path in TICKETPULSE_CORS_ORIGINS', () => {
    expect(loadConfig({ TICKETPULSE_CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` }).corsOrigins).toEqual([ALLOWED, 'http://localhost:5173']);
    expect(loadConfig({}).corsOrigins).toEqual([]);
    for (const bad of ['*', 'https://*.example.com', 'https://shop.example.com/', 'shop.example.com']) {
      expect(() => loadConfig({ TICKETPULSE_CORS_ORIGINS: bad }), bad).toThrow(/TICKETPULSE_CORS_ORIGINS/);
    }
  });
});
