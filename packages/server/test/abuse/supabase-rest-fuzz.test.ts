import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../src/auth/token-verifier.ts';
import type { EventWithTicketTypes } from '../../src/inventory/catalog.ts';
import { createTestDatabase, drivers, type TestDatabase } from '../support/database.ts';
import { createEvent, typeId } from '../support/fixtures.ts';
import { count, sendRaw } from '../support/fuzzing.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/server.ts';

/**
 * Property-based fuzzing of the PostgREST subset's query strings (filters,
 * select, order, limit, encodings, headers), as http-fuzz.test.ts does the
 * API: never a 5xx, every refusal in PostgREST's shape (docs/supabase.md),
 * and, for filters built to be valid, exactly the rows PostgreSQL itself
 * selects with the same conditions.
 */

const RUNS = Number(process.env.TICKETPULSE_REST_FUZZ_RUNS ?? 400);
/** Requests per run, sent together over a keep-alive pool. */
const PER_RUN = 8;
const SEED = Number(process.env.TICKETPULSE_FUZZ_SEED ?? 8);

const agent = new Agent({ keepAlive: true, maxSockets: PER_RUN });

interface FuzzRequest {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** 'any': only "never a 5xx"; '4xx': refused by construction; an SQL condition: the rows it must answer. */
  expect: 'any' | '4xx' | { where: string; params: unknown[] };
}

const send = (base: string, r: FuzzRequest) => sendRaw(base, r, agent);

/** PostgREST's error body: exactly these four keys; the codes docs/supabase.md maps to. */
function postgrestShaped(body: string): boolean {
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    const keys = Object.keys(json).sort().join(',');
    const text = (v: unknown) => v === null || typeof v === 'string';
    return keys === 'code,details,hint,message' && /^(PGRST[0-9X]\d\d|PT\d{3})$/.test(String(json.code)) && typeof json.message === 'string' && text(json.details) && text(json.hint);
  } catch {
    return false;
  }
}

type SqlType = 'uuid' | 'text' | 'numeric' | 'boolean';
type Op = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'in';
const SQL_OPS: Record<Exclude<Op, 'in'>, string> = { eq: '=', neq: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' };

/** A value inside `in.(…)`, quoted as postgrest-js quotes it when it holds a reserved character. */
const listValue = (v: string) => (/[,()"\\]/.test(v) || v === '' ? `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"` : v);

describe.each(drivers)('PostgREST subset fuzzing (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let events: EventWithTicketTypes[];
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db);
    // Names that sort differently by code point than by UTF-16 unit, or by a collation; prices, capacities and statuses of every kind.
    const types = [
      { name: 'General', price: '20.00', totalCapacity: 10 },
      { name: 'VIP ☕', price: '90.00', totalCapacity: 2, sortOrder: 1 },
      { name: 'A, B', price: '0.00', totalCapacity: null, sortOrder: 2 },
      { name: '～wave', price: '9.99', totalCapacity: 0, sortOrder: 3 },
      { name: '😀 emoji', price: '100.50', totalCapacity: 5, status: 'paused' as const, sortOrder: 4 },
      { name: '"Quoted" (x)', price: '5.00', totalCapacity: 3, status: 'hidden' as const, sortOrder: 5 },
      { name: 'general', price: '20.00', totalCapacity: 10, sortOrder: 6 },
    ];
    events = [
      await createEvent(server.service.catalog, { ticketTypes: types }),
      await createEvent(server.service.catalog, { ticketTypes: types.slice(0, 3), isPublic: false }),
      await createEvent(server.service.catalog, { ticketTypes: types.slice(2, 5), status: 'draft' }),
    ];
    await server.service.holds.reserve({ eventId: events[0]!.id, holderId: randomUUID(), items: [{ ticketTypeId: typeId(events[0]!, 'General'), quantity: 3 }] });
    tokens.organizer = await server.token('organizer');
    tokens.anon = await server.token('anon');
    tokens.buyer = await server.token('authenticated');
    tokens.expired = (await server.service.verifier.sign({ userId: 'x', role: 'organizer' }, -10)).token;
    tokens.forged = (await new TokenVerifier(`${TEST_JWT_SECRET}-not-ours`).sign({ userId: 'x', role: 'service' }, 60)).token;
  });
  afterAll(async () => {
    await server?.close();
    await t?.dispose();
  });

  it('never answers a query with a 5xx, refuses in PostgREST shape, and filters exactly as PostgreSQL does', async () => {
    const typeIds = events.flatMap((e) => e.ticketTypes.map((x) => x.id));
    const names = [...new Set(events.flatMap((e) => e.ticketTypes.map((x) => x.name)))];
    /** Columns of event_tickets the oracle filters on, with values PostgreSQL reads the same way: uuids (any case), integers, two-decimal prices, booleans, text. */
    const oracleColumns: Record<string, { type: SqlType; values: string[] }> = {
      event_id: { type: 'uuid', values: [...events.map((e) => e.id), events[0]!.id.toUpperCase(), randomUUID()] },
      id: { type: 'uuid', values: [...typeIds, typeIds[0]!.toUpperCase(), randomUUID()] },
      name: { type: 'text', values: [...names, '', 'B', 'General ', 'z', '～', '😀', '\u{10FFFF}', 'a\\b', 'Ä'] },
      status: { type: 'text', values: ['on_sale', 'paused', 'hidden', 'x'] },
      total_capacity: { type: 'numeric', values: ['0', '2', '3', '5', '10', '-1', '1000'] },
      available_count: { type: 'numeric', values: ['0', '2', '7', '10'] },
      reserved_count: { type: 'numeric', values: ['0', '3'] },
      sort_order: { type: 'numeric', values: ['0', '1', '3', '6'] },
      price: { type: 'numeric', values: ['0', '0.00', '9.99', '20', '20.00', '90', '100.5', '1e2', '-0'] },
      is_active: { type: 'boolean', values: ['true', 'false', 't', 'f'] },
    };

    const condition = fc.constantFrom(...Object.keys(oracleColumns)).chain((column) => {
      const { type, values } = oracleColumns[column]!;
      const ops: Op[] = type === 'boolean' ? ['eq', 'neq', 'in'] : ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in'];
      return fc.tuple(fc.constant(column), fc.constant(type), fc.constantFrom(...ops), fc.array(fc.constantFrom(...values), { minLength: 1, maxLength: 4 }));
    });
    /** Valid filters, and the same conditions in SQL: text by code point (COLLATE "C"), numbers as numeric. */
    const oracleRequest = fc.array(condition, { minLength: 0, maxLength: 3 }).map((conditions): FuzzRequest => {
      const query = new URLSearchParams({ select: '*' });
      const where: string[] = [];
      const params: unknown[] = [];
      for (const [column, type, op, values] of conditions) {
        const sqlColumn = type === 'text' ? `x.${column} COLLATE "C"` : `x.${column}`;
        if (op === 'in') {
          query.append(column, `in.(${values.map(listValue).join(',')})`);
          params.push(values);
          where.push(`${sqlColumn} = ANY ($${params.length}::${type}[])`);
        } else {
          query.append(column, `${op}.${values[0]}`);
          params.push(values[0]);
          where.push(`${sqlColumn} ${SQL_OPS[op]} $${params.length}::${type}`);
        }
      }
      return {
        kind: 'valid filters',
        method: 'GET',
        path: `/rest/v1/event_tickets?${query}`,
        headers: { authorization: `Bearer ${tokens.organizer}` },
        expect: { where: where.join(' AND ') || 'true', params },
      };
    });

    // Anything goes: odd names, operators, values, encodings, headers, tokens, methods.
    const anyText = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('', '*', '"', '(', ')', ',', '\\', '%', '+', '&', '=', '.', 'null', '__proto__', 'constructor'));
    const column = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...Object.keys(oracleColumns), 'description', 'currency', 'version', 'created_at', 'updated_at', 'low_stock_threshold', 'ticket_type_id', 'actual_available') },
      { weight: 2, arbitrary: fc.constantFrom('select', 'order', 'limit', 'offset', 'or', 'and', 'not', 'on_conflict', 'columns', 'apikey', '__proto__', 'constructor', 'toString', '') },
      { weight: 1, arbitrary: anyText },
    );
    const operator = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in') },
      { weight: 2, arbitrary: fc.constantFrom('like', 'ilike', 'is', 'not.eq', 'cs', 'cd', 'fts', 'EQ', 'eq(any)', '') },
      { weight: 1, arbitrary: anyText },
    );
    const value = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...Object.values(oracleColumns).flatMap((c) => c.values), '2026-11-21T12:00:00Z', '2026-11-21 12:00:00.123456+02', 'infinity', 'NaN', '1e400', '0x10', '١٢') },
      { weight: 2, arbitrary: anyText },
      { weight: 1, arbitrary: fc.array(fc.oneof(fc.uuid(), anyText), { maxLength: 110 }).map((values) => `(${values.map(listValue).join(',')})`) },
      { weight: 1, arbitrary: fc.integer({ min: 1000, max: 6000 }).map((n) => 'v'.repeat(n)) },
    );
    const filter = fc.tuple(column, operator, value).map(([c, op, v]) => [c, op === 'in' && !v.startsWith('(') ? `in.(${v})` : `${op}.${v}`] as [string, string]);
    const special = fc.oneof(
      fc.constantFrom<[string, string]>(['select', '*'], ['select', ''], ['select', 'id,name'], ['select', '*,events(*)'], ['order', 'name.asc'], ['order', 'price.desc.nullslast'], ['limit', '1'], ['limit', '-1'], ['offset', '10'], ['or', '(name.eq.A,name.eq.B)'], ['and', '(price.gt.1)']),
      fc.tuple(fc.constantFrom('select', 'order', 'limit', 'offset'), anyText),
    );
    const encoding = fc.constantFrom('component', 'plus', 'loose', 'double', 'broken');
    const encode = (s: string, how: string, broken: string) => {
      switch (how) {
        case 'plus':
          return encodeURIComponent(s).replace(/%20/g, '+');
        case 'loose':
          // Only what an HTTP request line cannot carry, and what would split the query, is encoded: quotes, parentheses, commas and stars go as they are.
          return s.replace(/[^\x21-\x7e]|[#&=%+]/gu, (c) => encodeURIComponent(c));
        case 'double':
          return encodeURIComponent(encodeURIComponent(s));
        case 'broken':
          return `${encodeURIComponent(s)}${broken}`;
        default:
          return encodeURIComponent(s);
      }
    };
    const brokenEscape = fc.constantFrom('%', '%z', '%zz', '%0', '%00', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%FF', '%%');
    const queryString = fc
      .array(fc.tuple(fc.oneof({ weight: 4, arbitrary: filter }, { weight: 1, arbitrary: special }), encoding, brokenEscape), { maxLength: 5 })
      .map((params) => params.map(([[k, v], how, broken]) => `${encode(k, how === 'broken' ? 'component' : how, broken)}=${encode(v, how, broken)}`).join('&'));
    const relation = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('event_tickets', 'ticket_availability_view') },
      { weight: 1, arbitrary: fc.constantFrom('tickets', 'reservations', 'events', 'event%5Ftickets', 'EVENT_TICKETS', '', 'rpc/reserve_holds', 'event_tickets/x', '%zz', '..', 'event_tickets%2F..') },
      { weight: 1, arbitrary: anyText.map(encodeURIComponent) },
    );
    const token = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(undefined, 'organizer', 'anon', 'buyer') }, { weight: 1, arbitrary: fc.constantFrom('expired', 'forged', 'garbage') });
    // Mostly none, so most requests reach the filters.
    const headers = fc.oneof(
      { weight: 3, arbitrary: fc.constant<Record<string, string>>({}) },
      fc.record(
        {
          accept: fc.constantFrom('*/*', 'application/json', 'application/vnd.pgrst.object+json', 'application/vnd.pgrst.array+json;nulls=stripped', 'text/csv', 'application/json, */*;q=0.5', 'text/html', ''),
          'accept-profile': fc.constantFrom('public', 'auth', 'PUBLIC', ''),
          prefer: fc.constantFrom('count=exact', 'return=representation', 'handling=strict', 'x'),
          range: fc.constantFrom('0-9', 'x', '10-1'),
        },
        { requiredKeys: [] },
      ),
    );
    const anyRequest = fc.tuple(fc.constantFrom('GET', 'GET', 'GET', 'GET', 'HEAD', 'POST', 'PATCH', 'DELETE'), relation, queryString, token, headers).map(
      ([method, rel, query, tk, extra]): FuzzRequest => ({
        kind: method === 'GET' || method === 'HEAD' ? 'read' : 'write',
        method,
        path: `/rest/v1/${rel}${query ? `?${query}` : ''}`,
        headers: { ...extra, ...(tk && { authorization: `Bearer ${tokens[tk] ?? tk}` }) },
        // A write, or a bad token, is refused whatever else the request says.
        expect: method !== 'GET' && method !== 'HEAD' ? '4xx' : tk === 'expired' || tk === 'forged' || tk === 'garbage' ? '4xx' : 'any',
      }),
    );

    const statuses: Record<string, Record<string, number>> = {};
    const codes: Record<string, number> = {};
    const problems: string[] = [];
    let requests = 0;
    let oracleRows = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof({ weight: 1, arbitrary: oracleRequest }, { weight: 2, arbitrary: anyRequest }), { minLength: PER_RUN, maxLength: PER_RUN }), async (batch) => {
        const answers = await Promise.all(batch.map((r) => send(server.url, r)));
        for (const [i, answer] of answers.entries()) {
          const r = batch[i]!;
          requests += 1;
          count((statuses[r.kind] ??= {}), answer.status);
          const where = `${r.method} ${r.path.slice(0, 160)}`;
          if (answer.status === 0 || answer.status >= 500) problems.push(`${where} -> ${answer.status} ${answer.body.slice(0, 200)}`);
          else if (answer.status >= 300 && r.method !== 'HEAD') {
            if (!postgrestShaped(answer.body)) problems.push(`${where} -> ${answer.status}, not PostgREST's shape: ${answer.body.slice(0, 200)}`);
            else count(codes, (JSON.parse(answer.body) as { code: string }).code);
          } else if (answer.status < 300 && r.method !== 'HEAD' && !Array.isArray(JSON.parse(answer.body))) problems.push(`${where} -> ${answer.status}, not an array`);
          if (r.expect === '4xx' && !(answer.status >= 400 && answer.status < 500)) problems.push(`${where} -> ${answer.status}, expected a refusal`);
          if (typeof r.expect === 'object') {
            const { rows } = await t.db.query<{ id: string }>(`SELECT x.id FROM event_tickets x WHERE ${r.expect.where} ORDER BY x.event_id, x.sort_order, x.id`, r.expect.params);
            const expected = rows.map((row) => row.id);
            const got = answer.status === 200 ? (JSON.parse(answer.body) as Array<{ id: string }>).map((row) => row.id) : answer.status;
            oracleRows += expected.length;
            if (JSON.stringify(got) !== JSON.stringify(expected)) problems.push(`${where} -> ${JSON.stringify(got)}, PostgreSQL selects ${JSON.stringify(expected)}`);
          }
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    const fuzzMs = Date.now() - started;

    await recordReliability({
      fault: `PostgREST subset fuzzing (fast-check, ${driver}): filters with any column, operator and value, select, order, limit, in lists past 100, encodings (+, double, loose, broken escapes), Accept and Accept-Profile, bad tokens, writes, unknown tables and paths`,
      injected: requests,
      checked: [
        'no 5xx, no connection cut',
        "every refusal in PostgREST's shape {code, message, details, hint} with a documented code; every 2xx a JSON array",
        'writes and bad tokens refused with a 4xx',
        'valid filters answer exactly the rows PostgreSQL selects with the same conditions, in the same order',
      ],
      figures: {
        requests,
        fiveHundreds: Object.values(statuses).reduce((n, byStatus) => n + Object.entries(byStatus).filter(([status]) => Number(status) >= 500).reduce((a, [, v]) => a + v, 0), 0),
        problems: problems.length,
        oracleRows,
        fuzzMs,
        seed: SEED,
        ...Object.fromEntries(Object.entries(statuses).map(([k, s]) => [`statuses: ${k}`, JSON.stringify(s)])),
        codes: JSON.stringify(codes),
      },
    });

    expect(problems.slice(0, 10)).toEqual([]);
    expect(requests).toBe(RUNS * PER_RUN);
  }, 120_000);
});
