import { createHmac, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloseCode } from '@ticketpulse/protocol';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../src/auth/token-verifier.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createEvent, typeId } from '../support/fixtures.ts';
import { PhoenixSocket } from '../support/phoenix-socket.ts';
import { TestSocket } from '../support/realtime-client.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/server.ts';

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
/** Signed with the server's own secret, header and payload as given: only the checks beyond the signature can refuse it. */
const signedAsIs = (header: object, payload: unknown) => {
  const input = `${b64url(header)}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${createHmac('sha256', TEST_JWT_SECRET).update(input).digest('base64url')}`;
};

/** Every way a presented token can be bad, each with the codes it may be refused with. */
async function badTokens(server: TestServer): Promise<Array<{ name: string; token: string; codes: string[] }>> {
  const key = new TextEncoder().encode(TEST_JWT_SECRET);
  const valid = await server.token('anon');
  const [header, , signature] = valid.split('.');
  const invalid = ['invalid_token'];
  return [
    { name: 'not a JWT', token: 'not-a-jwt', codes: invalid },
    { name: 'random three parts', token: `${b64url({ alg: 'HS256' })}.${b64url({ x: 1 })}.c2lnbmF0dXJl`, codes: invalid },
    { name: 'expired', token: (await server.service.verifier.sign({ userId: randomUUID(), role: 'organizer' }, -10)).token, codes: ['token_expired'] },
    {
      name: 'wrongly signed',
      token: (await new TokenVerifier('another-secret-that-is-long-enough-to-sign').sign({ userId: randomUUID(), role: 'organizer' }, 60)).token,
      codes: invalid,
    },
    { name: 'alg none', token: `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: randomUUID(), role: 'service', exp: inAnHour() })}.`, codes: invalid },
    {
      name: 'HS512 with the right secret (algorithm confusion)',
      token: await new SignJWT({ role: 'service' }).setProtectedHeader({ alg: 'HS512' }).setExpirationTime(inAnHour()).sign(key),
      codes: invalid,
    },
    { name: 'payload swapped for role service', token: `${header}.${b64url({ role: 'service', exp: inAnHour() })}.${signature}`, codes: invalid },
    { name: 'no exp', token: await new SignJWT({ role: 'organizer' }).setProtectedHeader({ alg: 'HS256' }).sign(key), codes: invalid },
    { name: 'not yet valid (nbf in the future)', token: signedAsIs({ alg: 'HS256' }, { role: 'service', exp: inAnHour(), nbf: inAnHour() - 60 }), codes: invalid },
    { name: 'exp not a number', token: signedAsIs({ alg: 'HS256' }, { role: 'service', exp: String(inAnHour()) }), codes: invalid },
    { name: 'iat not a number', token: signedAsIs({ alg: 'HS256' }, { role: 'service', exp: inAnHour(), iat: 'now' }), codes: invalid },
    { name: 'critical header parameter', token: signedAsIs({ alg: 'HS256', crit: ['exp'], exp: inAnHour() }, { role: 'service', exp: inAnHour() }), codes: invalid },
    { name: 'payload not an object', token: signedAsIs({ alg: 'HS256' }, [{ role: 'service', exp: inAnHour() }]), codes: invalid },
    { name: 'alg in another case', token: signedAsIs({ alg: 'hs256' }, { role: 'service', exp: inAnHour() }), codes: invalid },
    { name: 'signature cut short', token: `${header}.${valid.split('.')[1]}.${signature!.slice(0, 20)}`, codes: invalid },
    // A `sub` is a holder id in every query: one PostgreSQL cannot store was a 500 on every route that uses it, and
    // in a realtime presence round (one statement for every visitor on the node) it got every other visitor skipped.
    { name: 'sub with a NUL', token: signedAsIs({ alg: 'HS256' }, { sub: 'a\u0000b', role: 'authenticated', exp: inAnHour() }), codes: invalid },
    // Stored as U+FFFD: two such users were one holder in the database (one queue entry, one pass).
    { name: 'sub with an unpaired surrogate', token: signedAsIs({ alg: 'HS256' }, { sub: 'user-\ud800', role: 'authenticated', exp: inAnHour() }), codes: invalid },
    {
      name: 'unknown role',
      token: await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(inAnHour()).sign(key),
      codes: invalid,
    },
  ];
}

/** What /rest/v1/ answers a bad token with: PostgREST's JWT errors. */
const POSTGREST_TOKEN_CODES: Readonly<Record<string, string>> = { invalid_token: 'PGRST301', token_expired: 'PGRST303' };

interface Route {
  method: string;
  url: string;
}

/** Every route the app serves, read from Fastify's own route tree (so a new route cannot be missed). */
function routesOf(tree: string): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([\s│├└─]*)(\S.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth - 1;
    const url = (stack.at(-1) ?? '') + match[2]!;
    stack.push(url);
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, url });
  }
  return routes;
}

/** Open to anonymous callers by design: the storefront, event pages and availability, health, metrics and the API description. */
const PUBLIC = new Set([
  'GET /',
  // The storefront: its assets and the single-page app's routes.
  'GET *',
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /api/openapi.json',
  'GET /api/events',
  'GET /api/events/:idOrSlug',
  'GET /api/events/:idOrSlug/availability',
  'GET /rest/v1/:relation',
  'POST /api/auth/dev-token',
  // What browsers subscribe to pushes with: a public key.
  'GET /api/push/vapid-public-key',
]);

describe('authentication', () => {
  let t: TestDatabase;
  let server: TestServer;
  let dist: string;

  beforeAll(async () => {
    t = await createTestDatabase('pglite');
    // A storefront, so its routes are enumerated and checked too.
    dist = await mkdtemp(join(tmpdir(), 'storefront-'));
    await mkdir(join(dist, 'assets'));
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>TicketPulse</title>');
    await writeFile(join(dist, 'assets', 'index-1.js'), '1');
    // Demo mode: its routes (the simulator's) are on the surface too.
    server = await startTestServer(t.db, { devAuth: true, demo: true, storefrontDir: dist, realtime: { authTimeoutMs: 300 } });
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
    await rm(dist, { recursive: true, force: true });
  });

  it('refuses every bad token on every route, public ones included, and a missing one on every non-public route', async () => {
    const event = await createEvent(server.service.catalog);
    const holder = randomUUID();
    const { reservation } = await server.service.holds.reserve({ eventId: event.id, holderId: holder, items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] });
    const routes = routesOf(server.service.app.printRoutes({ commonPrefix: false }));
    expect(routes.length).toBeGreaterThan(25);
    // A storefront asset (under the wildcard) and unknown paths too: the check runs before routing.
    const extra = ['GET /assets/index-1.js', 'GET /no/such/route', 'POST /api/no-such-route'];
    routes.push(...extra.map((r) => ({ method: r.split(' ')[0]!, url: r.split(' ')[1]! })));
    const fill = (url: string) =>
      url
        .replace(':idOrSlug', event.id)
        .replace('/reservations/:id', `/reservations/${reservation.id}`)
        .replace('/event-tickets/:id', `/event-tickets/${typeId(event, 'General')}`)
        .replace(':userId', randomUUID())
        .replace(':entryId', randomUUID())
        .replace(':relation', 'event_tickets')
        .replace(/^\*$/, '/some/page');
    const tokens = await badTokens(server);
    const headers = [...tokens.map((b) => ({ name: b.name, value: `Bearer ${b.token}`, codes: b.codes })), { name: 'Basic', value: 'Basic dXNlcjpwYXNz', codes: ['invalid_token'] }];
    let requests = 0;
    for (const route of routes) {
      const path = fill(route.url);
      for (const header of headers) {
        const response = await server.request(route.method, path, { headers: { authorization: header.value } });
        requests += 1;
        expect(response.status, `${route.method} ${path} with ${header.name}`).toBe(401);
        if (route.method === 'HEAD') continue;
        // The PostgREST subset answers in PostgREST's words (docs/supabase.md), the rest of the API in its own.
        const postgrest = path.startsWith('/rest/v1/');
        const codes = postgrest ? header.codes.map((code) => POSTGREST_TOKEN_CODES[code]) : header.codes;
        expect(codes, `${route.method} ${path} with ${header.name}`).toContain(postgrest ? response.body.code : response.body.error.code);
      }
      if (PUBLIC.has(`${route.method === 'HEAD' ? 'GET' : route.method} ${route.url}`)) continue;
      if (extra.includes(`${route.method} ${route.url}`)) continue;
      // Malformed ids and a body of the wrong type: the token is checked first, so the answer is 401, never a 400 that shows the schema.
      const malformed = route.url.replace(/:\w+/g, '%27%3B--');
      const hasBody = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method);
      const missing = await server.request(route.method, malformed, hasBody ? { rawBody: '[1]' } : {});
      requests += 1;
      expect(missing.status, `${route.method} ${malformed} without a token`).toBe(401);
      if (route.method !== 'HEAD') expect(missing.body.error.code, `${route.method} ${malformed} without a token`).toBe('unauthorized');
      const badWithMalformed = await server.request(route.method, malformed, { ...(hasBody ? { rawBody: '[1]' } : {}), headers: { authorization: 'Bearer a.b.c' } });
      requests += 1;
      expect(badWithMalformed.status, `${route.method} ${malformed} with a bad token`).toBe(401);
    }
    // The reservation is untouched by all of it.
    expect((await server.service.holds.get(reservation.id, holder)).status).toBe('active');
    await recordReliability({
      fault: 'security/authentication: missing, malformed, expired, wrongly signed, alg none and other bad JWTs on every HTTP route',
      injected: requests,
      checked: ['401 with invalid_token or token_expired on every route (public ones included) for a presented bad token', '401 without a token on every non-public route, its ids and body malformed', 'nothing changed'],
      figures: { routes: routes.length, badTokenKinds: headers.length, requests, accepted: 0 },
    });
  });

  it('a token accepted before is refused with token_expired once its exp has passed (verified tokens are remembered, never past exp)', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = signedAsIs({ alg: 'HS256', typ: 'JWT' }, { sub: randomUUID(), role: 'anon', exp });
    const get = () => server.request('GET', `/api/reservations/${randomUUID()}`, { headers: { authorization: `Bearer ${token}` } });
    // Accepted (someone else's or no reservation: 404), twice: the second time from memory.
    expect((await get()).status).toBe(404);
    expect((await get()).status).toBe(404);
    while (Date.now() < exp * 1000) await new Promise((resolve) => setTimeout(resolve, 50));
    const after = await get();
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('token_expired');
  });

  it('refuses bad tokens on the realtime WebSocket, in the URL and as the first message, and one that never comes', async () => {
    const tokens = await badTokens(server);
    let attempts = 0;
    for (const bad of tokens) {
      const expected = bad.codes.includes('token_expired') ? CloseCode.tokenExpired : CloseCode.unauthorized;
      const inUrl = await TestSocket.open(server.url, { token: bad.token });
      expect((await inUrl.closed).code, `${bad.name} in the URL`).toBe(expected);
      const asMessage = await TestSocket.open(server.url);
      asMessage.send({ type: 'auth', token: bad.token });
      asMessage.send({ type: 'subscribe', eventId: randomUUID(), ref: 'early' });
      expect((await asMessage.closed).code, `${bad.name} as auth`).toBe(expected);
      expect(inUrl.received.concat(asMessage.received)).toEqual([]);
      attempts += 2;
    }
    const silent = await TestSocket.open(server.url);
    expect((await silent.closed).code).toBe(CloseCode.authTimeout);
    const subscribeFirst = await TestSocket.open(server.url);
    subscribeFirst.send({ type: 'subscribe', eventId: randomUUID(), ref: 'x' });
    expect((await subscribeFirst.closed).code).toBe(CloseCode.unauthorized);
    attempts += 2;
    await recordReliability({
      fault: 'security/authentication: bad JWTs on the realtime WebSocket (URL and auth message), no auth, subscribe before auth',
      injected: attempts,
      checked: ['closed with 4001 (4002 when expired, 4003 when no auth comes)', 'no message sent before the close'],
      figures: { badTokenKinds: tokens.length, connections: attempts, admitted: 0 },
    });
  });

  it('refuses bad tokens on the Supabase endpoint: as the apikey before the handshake, and in a join', async () => {
    const tokens = await badTokens(server);
    const missing = await PhoenixSocket.upgrade(server.url, undefined);
    expect(missing).toMatchObject({ status: 401 });
    const socket = await PhoenixSocket.open(server.url, await server.token('anon'));
    let attempts = 1;
    for (const [i, bad] of tokens.entries()) {
      const upgrade = await PhoenixSocket.upgrade(server.url, bad.token);
      expect(upgrade, bad.name).toMatchObject({ status: 401, body: expect.stringContaining(bad.codes[0]!) });
      const join = await socket.join(`bad-${i}`, [{ table: 'event_tickets' }], bad.token);
      expect(join.status, bad.name).toBe('error');
      attempts += 2;
    }
    await recordReliability({
      fault: 'security/authentication: bad JWTs on the Supabase endpoint (apikey at upgrade, access_token in phx_join), missing apikey',
      injected: attempts,
      checked: ['HTTP 401 before the handshake with the reason code', 'phx_join answered with status error'],
      figures: { badTokenKinds: tokens.length, attempts, admitted: 0 },
    });
  });

  it('refreshes tokens on both endpoints; a bad refresh changes nothing on ours and ends the channel on Supabase', async () => {
    const user = randomUUID();
    const short = (await server.service.verifier.sign({ userId: user, role: 'authenticated' }, 2)).token;
    const socket = await TestSocket.connect(server.url, short);
    const tokens = await badTokens(server);
    for (const [i, bad] of tokens.entries()) {
      socket.send({ type: 'refresh_token', token: bad.token, ref: `bad-${i}` });
      expect(await socket.next((m) => 'ref' in m && m.ref === `bad-${i}`), bad.name).toMatchObject({ type: 'error', code: 'invalid_token' });
    }
    socket.send({ type: 'refresh_token', token: (await server.service.verifier.sign({ userId: user, role: 'authenticated' }, 3600)).token, ref: 'good' });
    expect(await socket.next((m) => 'ref' in m && m.ref === 'good')).toMatchObject({ type: 'token_refreshed' });

    const phoenix = await PhoenixSocket.open(server.url, await server.token('anon'));
    const brief = (await server.service.verifier.sign({ userId: user, role: 'authenticated' }, 2)).token;
    expect((await phoenix.join('kept', [{ table: 'event_tickets' }], brief)).status).toBe('ok');
    phoenix.sendAccessToken('kept', (await server.service.verifier.sign({ userId: user, role: 'authenticated' }, 3600)).token);
    expect((await phoenix.join('spoiled', [{ table: 'event_tickets' }])).status).toBe('ok');
    phoenix.sendAccessToken('spoiled', tokens.find((b) => b.name === 'alg none')!.token);
    await phoenix.next((f) => f[2] === 'realtime:spoiled' && f[3] === 'phx_close');

    // Both outlive the tokens they started with.
    await new Promise((resolve) => setTimeout(resolve, 2600));
    socket.send({ type: 'ping', ref: 'alive' });
    expect(await socket.next((m) => 'ref' in m && m.ref === 'alive')).toMatchObject({ type: 'pong' });
    expect(phoenix.frames.some((f) => f[2] === 'realtime:kept' && (f[3] === 'phx_close' || f[3] === 'system' && f[4].status === 'error'))).toBe(false);
    socket.close();
    phoenix.close();
    await recordReliability({
      fault: 'security/authentication: token refresh with bad tokens, then a good one (both WebSocket endpoints)',
      injected: tokens.length + 2,
      checked: ['bad refresh: invalid_token, connection kept with its token', 'good refresh: connection outlives its first token', 'Supabase: a bad access_token ends that channel'],
      figures: { badRefreshes: tokens.length + 1, goodRefreshes: 2 },
    });
  });

  it('a revoked role cannot act: a downgraded token is refused on organizer routes and cannot refresh an organizer connection', async () => {
    const user = randomUUID();
    const hidden = await createEvent(server.service.catalog, { isPublic: false });
    const organizer = (await server.service.verifier.sign({ userId: user, role: 'organizer' }, 2)).token;
    const downgraded = await server.token('authenticated', user);
    expect((await server.request('GET', `/api/events/${hidden.id}/sales`, { token: organizer })).status).toBe(200);
    const organizerOnly: Array<[string, string]> = [
      ['GET', `/api/events/${hidden.id}/sales`],
      ['GET', `/api/events/${hidden.id}/holds`],
      ['PATCH', `/api/events/${hidden.id}`],
      ['PUT', `/api/events/${hidden.id}/access/${user}`],
      ['GET', '/api/realtime/stats'],
      ['PUT', '/api/simulator'],
      ['POST', '/api/events'],
    ];
    for (const [method, path] of organizerOnly) {
      const response = await server.request(method, path, { token: downgraded, ...(method !== 'GET' && { body: {} }) });
      expect([response.status, response.body.error.code], `${method} ${path}`).toEqual([403, 'forbidden']);
    }
    expect((await server.request('GET', `/api/events/${hidden.id}`, { token: downgraded })).status).toBe(404);

    // Realtime: the organizer's connection cannot be refreshed with the downgraded token, so it ends when its token does.
    const socket = await TestSocket.connect(server.url, organizer);
    expect(await socket.subscribe(hidden.id)).toMatchObject({ type: 'subscribed' });
    socket.send({ type: 'refresh_token', token: downgraded, ref: 'down' });
    expect(await socket.next((m) => 'ref' in m && m.ref === 'down')).toMatchObject({ type: 'error', code: 'token_subject_mismatch' });
    expect((await socket.closed).code).toBe(CloseCode.tokenExpired);
    const again = await TestSocket.connect(server.url, downgraded);
    expect(await again.subscribe(hidden.id)).toMatchObject({ type: 'error', code: 'event_not_found' });
    again.close();

    // Supabase: a downgraded access_token takes effect at once; the private event's changes stop.
    const phoenix = await PhoenixSocket.open(server.url, await server.token('anon'));
    const long = await server.token('organizer', user);
    expect((await phoenix.join('watch', [{ table: 'event_tickets', filter: `event_id=eq.${hidden.id}` }], long)).status).toBe('ok');
    await server.service.holds.reserve({ eventId: hidden.id, holderId: randomUUID(), items: [{ ticketTypeId: typeId(hidden, 'General'), quantity: 1 }] });
    await phoenix.next((f) => f[3] === 'postgres_changes');
    phoenix.sendAccessToken('watch', downgraded);
    const seen = phoenix.frames.filter((f) => f[3] === 'postgres_changes').length;
    // The access_token reply comes after the principal is replaced.
    await phoenix.next((f) => f[3] === 'phx_reply' && f[1] === '2');
    await server.service.holds.reserve({ eventId: hidden.id, holderId: randomUUID(), items: [{ ticketTypeId: typeId(hidden, 'VIP'), quantity: 1 }] });
    const control = await PhoenixSocket.open(server.url, long);
    expect((await control.join('control', [{ table: 'event_tickets', filter: `event_id=eq.${hidden.id}` }])).status).toBe('ok');
    await server.service.holds.reserve({ eventId: hidden.id, holderId: randomUUID(), items: [{ ticketTypeId: typeId(hidden, 'VIP'), quantity: 1 }] });
    await control.next((f) => f[3] === 'postgres_changes');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(phoenix.frames.filter((f) => f[3] === 'postgres_changes').length).toBe(seen);
    phoenix.close();
    control.close();
    await recordReliability({
      fault: 'security/authentication: role revoked (organizer token replaced by a buyer token for the same user)',
      injected: organizerOnly.length + 3,
      checked: ['403 forbidden on every organizer route', 'private event 404', 'WS refresh refused (token_subject_mismatch), connection closed 4002 at the old token’s exp', 'Supabase: changes stop after a downgraded access_token'],
      figures: { organizerRoutesTried: organizerOnly.length, acceptedAfterRevocation: 0 },
    });
  });
});
