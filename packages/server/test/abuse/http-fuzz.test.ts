import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../src/auth/token-verifier.ts';
import { Catalog, type EventWithTicketTypes } from '../../src/inventory/catalog.ts';
import { createTestDatabase, drivers, type TestDatabase } from '../support/database.ts';
import { createEvent, typeId } from '../support/fixtures.ts';
import { sendRaw } from '../support/fuzzing.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/server.ts';

/**
 * Property-based fuzzing of every HTTP route (read from the OpenAPI document
 * plus the routes it hides, checked against Fastify's route tree): requests
 * invalid by construction (a bad token, a body that is not JSON or too big or
 * of the wrong type, unknown ids, bad queries and headers, a method the path
 * does not have) must each get a 4xx and change nothing in the database;
 * anything-goes reads must never get a 5xx.
 */

const RUNS = Number(process.env.TICKETPULSE_HTTP_FUZZ_RUNS ?? 600);
/** Requests per run, sent together over a keep-alive pool. */
const PER_RUN = 8;
const SEED = Number(process.env.TICKETPULSE_FUZZ_SEED ?? 8);

interface Route {
  method: string;
  /** Fastify's form: /api/events/:idOrSlug */
  url: string;
  /** Its OpenAPI operation needs a bearer token (`security: bearerAuth`). */
  secured?: boolean;
}

interface FuzzRequest {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Invalid by construction: must be a 4xx. Otherwise only "not a 5xx". */
  invalid: boolean;
  /** When one 4xx is owed, whatever else is wrong with the request: 401 before any validation. */
  status?: number;
}

interface Answer {
  status: number;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: PER_RUN });

/** Kinds the server may answer by closing the connection before reading the whole request. */
const MAY_RESET = new Set(['body too large', 'headers too large']);

function send(base: string, r: FuzzRequest): Promise<Answer> {
  // Requests the server may cut short get a connection of their own, so no pooled one is reused half-closed.
  const own = MAY_RESET.has(r.kind);
  return sendRaw(base, { ...r, headers: { ...r.headers, ...(own && { connection: 'close' }) } }, own ? false : agent);
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Routes whose body schema is strict: an unknown key alone makes the body invalid. */
const STRICT_BODIES = new Set(['POST /api/events', 'PATCH /api/events/:idOrSlug', 'PATCH /api/event-tickets/:id', 'POST /api/events/:idOrSlug/reservations', 'PUT /api/simulator']);

/** Every route the app serves: the OpenAPI document's, HEAD for each GET, and the hidden ones. */
async function enumerateRoutes(server: TestServer): Promise<Route[]> {
  const doc = (await server.request('GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, { security?: unknown[] }>> };
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    const url = path.replace(/\{(\w+)\}/g, ':$1');
    for (const [method, operation] of Object.entries(operations).map(([m, o]) => [m.toUpperCase(), o] as const)) {
      const secured = (operation.security ?? []).some((s) => typeof s === 'object' && s !== null && 'bearerAuth' in s);
      routes.push({ method, url, secured });
      if (method === 'GET') routes.push({ method: 'HEAD', url, secured });
    }
  }
  for (const url of ['/', '/api/openapi.json', '/metrics', '/rest/v1/:relation']) routes.push({ method: 'GET', url }, { method: 'HEAD', url });
  return routes.filter((r) => server.service.app.hasRoute({ method: r.method as 'GET', url: r.url }));
}

describe.each(drivers)('HTTP API fuzzing (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let event: EventWithTicketTypes;
  let routes: Route[];
  let reservationId: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    // Demo mode, so the demo-only routes are fuzzed too.
    server = await startTestServer(t.db, { devAuth: true, demo: true });
    event = await createEvent(new Catalog(t.db));
    const holder = randomUUID();
    tokens.buyer = await server.token('authenticated', holder);
    tokens.organizer = await server.token('organizer');
    tokens.service = await server.token('service');
    tokens.anon = await server.token('anon');
    const held = await server.service.holds.reserve({ eventId: event.id, holderId: holder, items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] });
    reservationId = held.reservation.id;
    routes = await enumerateRoutes(server);
  });
  afterAll(async () => {
    await server?.close();
    await t?.dispose();
  });

  /** Every row of every table, in a stable order: what "nothing changed" is checked against. */
  const dump = async () => {
    const { rows } = await t.db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
    );
    const out: Record<string, unknown> = {};
    for (const { table_name: table } of rows) {
      out[table] = (await t.db.query(`SELECT coalesce(json_agg(to_jsonb(x) ORDER BY to_jsonb(x)::text), '[]') AS rows FROM "${table}" x`)).rows[0];
    }
    return out;
  };

  it('answers every request that is invalid by construction with a 4xx and changes nothing; never a 5xx', async () => {
    const tree = server.service.app.printRoutes({ commonPrefix: false });
    const methodsInTree = [...tree.matchAll(/\(([A-Z, ]+)\)/g)].reduce((n, m) => n + m[1]!.split(', ').length, 0);
    // A route added later without a schema must still be found: the OpenAPI list plus the hidden ones covers the whole tree.
    expect(routes.length).toBe(methodsInTree);

    const forged = (await new TokenVerifier(`${TEST_JWT_SECRET}-not-ours`).sign({ userId: 'x', role: 'service' }, 60)).token;
    const expired = (await server.service.verifier.sign({ userId: 'x', role: 'service' }, -10)).token;
    const header = (s: string) => Buffer.from(JSON.stringify(s === 'none' ? { alg: 'none' } : { alg: 'HS256' })).toString('base64url');
    const algNone = `${header('none')}.${Buffer.from(JSON.stringify({ role: 'service', exp: 9e9 })).toString('base64url')}.`;
    const badAuthorization = fc.oneof(
      fc.constantFrom(`Bearer ${forged}`, `Bearer ${expired}`, `Bearer ${algNone}`, 'Bearer ', 'Bearer a.b.c', `Basic ${Buffer.from('a:b').toString('base64')}`, `bearer${tokens.service}`),
      fc.string({ unit: fc.constantFrom(...'abcXYZ019.-_ '.split('')), minLength: 1, maxLength: 300 }).map((s) => `Bearer ${s}x`),
    );
    const token = fc.constantFrom(undefined, tokens.buyer!, tokens.organizer!, tokens.service!, tokens.anon!);
    const auth = (value: string | undefined): Record<string, string> => (value ? { authorization: value.startsWith('Bearer') || value.startsWith('Basic') || value.startsWith('bearer') ? value : `Bearer ${value}` } : {});
    const route = fc.constantFrom(...routes);
    const bodyRoute = fc.constantFrom(...routes.filter((r) => BODY_METHODS.has(r.method)));
    const known = { idOrSlug: event.id, id: reservationId, userId: randomUUID(), relation: 'event_tickets' };
    // Known ids, except that a ticket-type route gets a ticket type's.
    const fill = (url: string, params: Record<string, string>) =>
      url.replace(/:(\w+)/g, (_, name: string) => params[name] ?? (url.startsWith('/api/event-tickets') ? typeId(event, 'General') : known[name as keyof typeof known]));
    const oddSegment = fc.oneof(
      fc.uuid(),
      fc.stringMatching(/^[a-z0-9-]{1,40}$/),
      fc.string({ maxLength: 60 }).map(encodeURIComponent),
      fc.integer({ min: 101, max: 3000 }).map((n) => 'a'.repeat(n)),
      fc.constantFrom('%E0%A4%A', '%00', '..', '%2e%2e%2f', '%27%3B--', '-1', '1e400', 'null', '__proto__'),
    ).filter((s) => s.length > 0 && !Object.values(known).includes(s) && s !== event.slug);
    const unknownParams = fc.dictionary(fc.constantFrom('idOrSlug', 'id', 'userId', 'relation'), oddSegment, { minKeys: 4 });
    // Malformed ids that still reach a route: an over-long segment (414) or a broken escape (400) is refused while routing, before any route's own checks.
    const routableParams = fc.dictionary(
      fc.constantFrom('idOrSlug', 'id', 'userId', 'entryId'),
      fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,40}$/), fc.constantFrom('%27%3B--', '-1', 'null', '__proto__')),
      { minKeys: 4 },
    );
    const junkJson = fc.oneof(
      fc.string({ maxLength: 200 }).filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return true;
        }
      }),
      fc.anything().map((v) => JSON.stringify(v) ?? 'x').filter((s) => s.length > 1).map((s) => s.slice(0, -1)).filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return true;
        }
      }),
    );
    const wrongTyped = fc.oneof(
      fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string(), fc.array(fc.anything({ maxDepth: 2 }))).map((v) => JSON.stringify(v)),
      fc.integer({ min: 1, max: 20_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
      fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890123'),
      // Objects with an unknown key, and whatever in the known ones, huge numbers included.
      fc
        .record({
          fuzz: fc.anything({ maxDepth: 3 }),
          items: fc.anything({ maxDepth: 3 }),
          totalCapacity: fc.oneof(fc.double(), fc.bigInt().map(String)),
          running: fc.anything({ maxDepth: 1 }),
          status: fc.string(),
          slug: fc.string(),
        }, { requiredKeys: ['fuzz'] })
        .map((v) => JSON.stringify(v)),
    );

    const request = (kind: string, r: Route, params: Record<string, string>, headers: Record<string, string>, body?: string, invalid = true, status?: number): FuzzRequest => ({
      kind,
      method: r.method,
      path: fill(r.url, params),
      headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
      ...(body === undefined ? {} : { body }),
      invalid,
      ...(status === undefined ? {} : { status }),
    });

    const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
      fc.tuple(route, badAuthorization, fc.option(wrongTyped, { nil: undefined })).map(([r, a, body]) =>
        request('bad token', r, {}, { authorization: a, ...(body && BODY_METHODS.has(r.method) ? { 'content-type': 'application/json' } : {}) }, BODY_METHODS.has(r.method) ? body : undefined, true, 401),
      ),
      // No token on a route that needs one, with malformed ids and a malformed body: 401 first, never a 400 that shows the schema.
      fc.tuple(fc.constantFrom(...routes.filter((r) => r.secured)), routableParams, fc.oneof(junkJson, wrongTyped)).map(([r, params, body]) =>
        request('no token, malformed input', r, params, BODY_METHODS.has(r.method) ? { 'content-type': 'application/json' } : {}, BODY_METHODS.has(r.method) ? body : undefined, true, 401),
      ),
      fc.tuple(bodyRoute, token, junkJson).map(([r, tk, body]) => request('invalid JSON', r, {}, { ...auth(tk), 'content-type': 'application/json' }, body)),
      fc
        .tuple(bodyRoute, token, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/html', 'image/png'), fc.string({ minLength: 1, maxLength: 100 }))
        .map(([r, tk, type, body]) => request('wrong content type', r, {}, { ...auth(tk), 'content-type': type }, body)),
      fc.tuple(bodyRoute, token, fc.integer({ min: 65 * 1024, max: 300 * 1024 })).map(([r, tk, n]) =>
        request('body too large', r, {}, { ...auth(tk), 'content-type': 'application/json' }, JSON.stringify({ items: [], pad: 'x'.repeat(n) })),
      ),
      fc.tuple(route.filter((r) => r.url.includes(':')), token, unknownParams).map(([r, tk, params]) =>
        request('unknown or malformed ids', r, params, { ...auth(tk), ...(BODY_METHODS.has(r.method) ? { 'content-type': 'application/json' } : {}) }, BODY_METHODS.has(r.method) ? '{}' : undefined),
      ),
      fc.tuple(bodyRoute.filter((r) => STRICT_BODIES.has(`${r.method} ${r.url}`)), token, wrongTyped).map(([r, tk, body]) =>
        request('wrong types', r, {}, { ...auth(tk), 'content-type': 'application/json' }, body),
      ),
      fc
        .tuple(fc.constantFrom('/holds?expiringWithinSeconds=', '/sales?minutes='), token, fc.constantFrom('abc', '-1', '0', '86401', '1.5', '1e9', '99999999999999999999', '%zz', '', '1&minutes=2&expiringWithinSeconds=2'))
        .map(([suffix, tk, value]) => ({ kind: 'bad query', method: 'GET', path: `/api/events/${event.id}${suffix}${value}`, headers: auth(tk ?? tokens.organizer), invalid: true })),
      fc
        .tuple(
          token.filter((tk) => tk !== undefined),
          fc.oneof(fc.integer({ min: 256, max: 2000 }).map((n) => 'k'.repeat(n)), fc.constantFrom('a key', 'tab\tkey', 'ü-key')),
        )
        .map(([tk, key]) => ({
          kind: 'bad Idempotency-Key',
          method: 'POST',
          path: `/api/events/${event.id}/reservations`,
          headers: { ...auth(tk), 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify({ items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] }),
          invalid: true,
        })),
      fc.tuple(route, token, fc.integer({ min: 17 * 1024, max: 64 * 1024 })).map(([r, tk, n]) => request('headers too large', r, {}, { ...auth(tk), 'x-padding': 'p'.repeat(n) })),
      // A method the path does not have, WebDAV's and others Fastify does not route included.
      fc
        .tuple(route, fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND', 'MKCOL', 'PURGE'), token)
        .filter(([r, m]) => !routes.some((x) => x.url === r.url && x.method === m))
        .map(([r, m, tk]) => request('method not allowed', { method: m, url: r.url }, {}, auth(tk))),
      fc.tuple(fc.array(oddSegment, { minLength: 1, maxLength: 4 }), token).map(([segments, tk]) => ({
        kind: 'unknown path',
        method: 'GET',
        path: `/api/x-${segments.join('/')}`,
        headers: auth(tk),
        invalid: true,
      })),
      // Anything goes, but only reads: no 5xx, whatever the query and headers.
      fc
        .tuple(
          route.filter((r) => r.method === 'GET' || r.method === 'HEAD'),
          token,
          fc.dictionary(fc.stringMatching(/^[a-zA-Z]{1,12}$/), fc.string({ maxLength: 40 }).map(encodeURIComponent), { maxKeys: 4 }),
          fc.record({ accept: fc.constantFrom('*/*', 'text/html', 'application/xml', ''), 'if-none-match': fc.string({ unit: fc.constantFrom(...'"W/0123456789, *'.split('')), maxLength: 40 }) }, { requiredKeys: [] }),
        )
        .map(([r, tk, query, headers]) => {
          const search = new URLSearchParams(query).toString();
          const base = request('random read', r, {}, { ...auth(tk), ...headers }, undefined, false);
          return { ...base, path: base.path + (search ? `?${search}` : '') };
        }),
    );

    const before = await dump();
    const statuses: Record<string, Record<number, number>> = {};
    const problems: string[] = [];
    let requests = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(fuzzRequest, { minLength: PER_RUN, maxLength: PER_RUN }), async (batch) => {
        const answers = await Promise.all(batch.map((r) => send(server.url, r)));
        answers.forEach((answer, i) => {
          const r = batch[i]!;
          requests += 1;
          const byKind = (statuses[r.kind] ??= {});
          byKind[answer.status] = (byKind[answer.status] ?? 0) + 1;
          const refused = answer.status >= 400 && answer.status < 500;
          const wrong = answer.status === 0 ? !MAY_RESET.has(r.kind) : answer.status >= 500 || (r.invalid && !refused) || (r.status !== undefined && answer.status !== r.status);
          if (wrong) problems.push(`${r.kind}: ${r.method} ${r.path.slice(0, 120)} -> ${answer.status} ${answer.body.slice(0, 200)}`);
        });
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    const fuzzMs = Date.now() - started;
    const after = await dump();
    const fiveHundreds = Object.values(statuses).reduce((n, s) => n + Object.entries(s).filter(([k]) => Number(k) >= 500).reduce((a, [, v]) => a + v, 0), 0);

    await recordReliability({
      fault: `HTTP API fuzzing (fast-check, ${driver}): every route; bad tokens, no token with malformed input, invalid JSON, wrong content types, bodies too large, unknown/malformed ids, wrong types, bad queries and Idempotency-Keys, oversized headers, methods a path lacks, unknown paths, random reads`,
      injected: requests,
      checked: ['every request invalid by construction answered 4xx', 'a bad token, or no token on a route that needs one, answered 401 whatever else is malformed', 'no 5xx at all', 'full dump of every table identical before and after', 'routes enumerated cover the whole Fastify route tree'],
      figures: {
        requests,
        routes: routes.length,
        fiveHundreds,
        problems: problems.length,
        databaseUnchanged: JSON.stringify(before) === JSON.stringify(after),
        fuzzMs,
        seed: SEED,
        ...Object.fromEntries(Object.entries(statuses).map(([k, s]) => [`statuses: ${k}`, JSON.stringify(s)])),
      },
    });

    expect(problems.slice(0, 10)).toEqual([]);
    expect(after).toEqual(before);
    expect(await t.countMismatches()).toEqual([]);
  }, 120_000);
});
