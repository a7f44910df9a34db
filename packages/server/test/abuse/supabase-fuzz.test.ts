import type { RealtimePostgresChangesPayload } from '@supabase/supabase-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { EventWithTicketTypes } from '../../src/inventory/catalog.ts';
import type { TestDatabase } from '../support/database.ts';
import { typeId } from '../support/fixtures.ts';
import { collector, count, EventChurn, isUtf8, megabytes, settledHeap, startFuzzTarget, type FuzzTarget } from '../support/fuzzing.ts';
import { upgradeWebSocket, type PhoenixFrame } from '../support/phoenix-socket.ts';
import { recordReliability } from '../support/reliability-report.ts';
import type { TestServer } from '../support/server.ts';
import { subscribeStatus, supabaseClient } from '../support/supabase-client.ts';
import { eventually } from '../support/viewer.ts';

/**
 * Property-based fuzzing of the Supabase Realtime-compatible endpoint, as
 * websocket-fuzz.test.ts does the native protocol: tens of thousands of
 * Phoenix frames of both wire formats (vsn 1.0.0 objects, 2.0.0 arrays) over
 * many connections, while a supabase-js subscriber watches an event that keeps
 * changing. Joins with malformed postgres_changes configs and filters, bad and
 * huge topics, unknown events, heartbeats in any order, access_token messages
 * with bad tokens, binary frames. The documented rule (docs/supabase.md#errors-and-limits):
 * every frame the server can decode is answered by exactly one phx_reply with
 * its ref and topic; one it cannot (not a frame of the vsn, not UTF-8, too
 * big, a binary frame that is not a broadcast push) closes the connection with
 * 1007 or 1009. The control subscriber must end exact, the heap near where it
 * started, and the endpoint must let go of every socket and channel.
 */

const FRAMES_PER_VSN = Number(process.env.TICKETPULSE_SUPABASE_FUZZ_FRAMES ?? 25_000);
const SEED = Number(process.env.TICKETPULSE_FUZZ_SEED ?? 8);
/** Frames per connection; each connection may then end with one frame the server cannot decode. */
const BATCH = 100;
const MAX_FRAME_BYTES = 16 * 1024;
const MAX_CHANNELS = 10;
/** Growth allowed after the run, once the collector has run: a leak of one object per frame would pass it many times over. */
const HEAP_SLACK_BYTES = 24 * 1024 * 1024;
const VSNS = ['1.0.0', '2.0.0'] as const;
type Vsn = (typeof VSNS)[number];

/** Every refusal a phx_reply may carry, as docs/supabase.md lists them, by kind (the report's figures). */
const DOCUMENTED_REFUSALS: ReadonlyArray<[string, RegExp]> = [
  ['invalid_filter', /^Invalid filter "/],
  ['unknown_table', /^Table ".*" is not available: TicketPulse streams event_tickets and tickets$/s],
  ['unknown_schema', /^Schema ".*" is not available: TicketPulse streams schema public$/s],
  ['unknown_change_event', /^Unknown event ".*": use INSERT, UPDATE, DELETE or \*$/s],
  ['select', /^select is not supported: change messages carry whole rows$/],
  ['malformed_binding', /^Each postgres_changes entry needs event and schema \(strings\), and may have table and filter$/],
  ['malformed_join', /^Invalid join payload: /],
  ['token_expired', /^Token has expired$/],
  ['invalid_token', /^Invalid token$/],
  ['too_many_channels', new RegExp(`^Too many channels: at most ${MAX_CHANNELS} per connection$`)],
  ['bad_topic', /^Topics are realtime:<channel name>$/],
  ['unmatched_topic', /^unmatched topic$/],
  ['unknown_event', /^Unknown event ".*"( on topic phoenix)?$/s],
  ['broadcast_or_presence', /^(broadcast|presence|Broadcast) is not supported by TicketPulse: only postgres_changes$/],
];

type Tokens = FuzzTarget['tokens'];

/** A frame the server can decode, before its ref is chosen: the ref decides how its reply is matched. */
interface Decodable {
  kind: 'text' | 'binary';
  topic: string;
  event: string;
  payload: unknown;
  joinRef: string | null;
  /** unique: a ref only this frame has, matched exactly; null: no ref; a string: as given (may repeat). */
  ref: 'unique' | null | string;
  /** vsn 1.0.0 only: leave `ref` and `join_ref` out when null, as Phoenix allows. */
  omitNulls: boolean;
}

/** What goes on the wire, and what must come back. */
interface WireFrame {
  data: string | Buffer;
  binary: boolean;
  /** The reply it must get (undefined: it must close the connection with `fatal`). */
  reply?: { ref: string | null; topic: string; joinRef: string | null; unique: boolean };
  fatal?: number;
  label: string;
  /** A join's payload as sent: its accepted bindings must come back in the reply. */
  join?: unknown;
}

const textBytes = (s: string) => Buffer.byteLength(s);

/**
 * The documented wire format, written out here rather than borrowed from the
 * server's codec, so a codec that drifts from docs/supabase.md fails: vsn
 * 1.0.0 is an object {topic, event, payload, ref?, join_ref?}, 2.0.0 an array
 * [join_ref, ref, topic, event, payload]; topic and event are strings of 1-255
 * characters, refs strings of at most 255 or null, payload an object.
 */
function decodableAs(vsn: Vsn, json: unknown): boolean {
  const name = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= 255;
  const ref = (v: unknown) => v === null || (typeof v === 'string' && v.length <= 255);
  const object = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (vsn === '2.0.0') {
    return Array.isArray(json) && json.length === 5 && ref(json[0]) && ref(json[1]) && name(json[2]) && name(json[3]) && object(json[4]);
  }
  if (!object(json)) return false;
  const frame = json as Record<string, unknown>;
  return name(frame.topic) && name(frame.event) && object(frame.payload) && (frame.ref === undefined || ref(frame.ref)) && (frame.join_ref === undefined || ref(frame.join_ref));
}

/**
 * supabase-js pairs its bindings with the join reply's `postgres_changes`
 * entry by entry (event, schema, table, filter), and routes changes by their
 * ids: the reply lists every binding sent, in order, each with an integer id.
 */
function echoes(join: unknown, echoed: unknown): boolean {
  const sent = (join as { config?: { postgres_changes?: Array<Record<string, unknown>> } }).config?.postgres_changes;
  if (sent === undefined) return echoed === undefined;
  if (!Array.isArray(echoed) || echoed.length !== sent.length) return false;
  return sent.every((binding, i) => {
    const entry = echoed[i] as Record<string, unknown>;
    return Number.isInteger(entry.id) && ['event', 'schema', 'table', 'filter'].every((key) => entry[key] === binding[key]);
  });
}

/** A vsn 1.0.0 frame in 2.0.0's order: [join_ref, ref, topic, event, payload]. */
const toArray = (frame: Record<string, unknown>) => [frame.join_ref ?? null, frame.ref ?? null, frame.topic, frame.event, frame.payload] as PhoenixFrame;

/** A binary frame the endpoint answers: a broadcast push (kind 3) whose header's lengths fit in the frame. */
function broadcastHeader(bytes: Uint8Array): { joinRef: string | null; ref: string | null; topic: string } | undefined {
  if (bytes.length < 7 || bytes[0] !== 3) return undefined;
  const lengths = [bytes[1]!, bytes[2]!, bytes[3]!, bytes[4]!, bytes[5]!];
  if (7 + lengths.reduce((a, b) => a + b, 0) > bytes.length) return undefined;
  const text = (start: number, length: number) => Buffer.from(bytes.subarray(start, start + length)).toString('utf8');
  const joinRef = text(7, lengths[0]!);
  const ref = text(7 + lengths[0]!, lengths[1]!);
  return { joinRef: joinRef || null, ref: ref || null, topic: text(7 + lengths[0]! + lengths[1]!, lengths[2]!) };
}

function encodeBroadcast(joinRef: string, ref: string, topic: string, event: string, payload: Uint8Array): Buffer {
  const strings = [joinRef, ref, topic, event, '{}'].map((s) => Buffer.from(s));
  return Buffer.concat([Buffer.from([3, ...strings.map((s) => s.length), 0]), ...strings, payload]);
}

/** Whatever was sent, judged by the documented rules alone: answered (and how) or closed (and with what). */
function judge(vsn: Vsn, data: string | Buffer, binary: boolean, label: string, uniqueRef?: string): WireFrame {
  const size = typeof data === 'string' ? textBytes(data) : data.byteLength;
  if (size > MAX_FRAME_BYTES) return { data, binary, fatal: 1009, label };
  if (binary) {
    const header = broadcastHeader(data as Buffer);
    if (!header) return { data, binary, fatal: 1007, label };
    return { data, binary, label, reply: { ...header, unique: header.ref !== null && header.ref === uniqueRef } };
  }
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  if (!isUtf8(bytes)) return { data, binary, fatal: 1007, label };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { data, binary, fatal: 1007, label };
  }
  if (!decodableAs(vsn, json)) return { data, binary, fatal: 1007, label };
  const [joinRef, ref, topic] = Array.isArray(json) ? (json as PhoenixFrame) : toArray(json as Record<string, unknown>);
  return { data, binary, label, reply: { ref, topic, joinRef, unique: ref !== null && ref === uniqueRef } };
}

/** Puts a decodable frame on the wire for a vsn, with `uniqueRef` where it asks for one. */
function encode(vsn: Vsn, frame: Decodable, uniqueRef: string): WireFrame {
  const ref = frame.ref === 'unique' ? uniqueRef : frame.ref;
  if (frame.kind === 'binary') {
    return judge(vsn, encodeBroadcast(frame.joinRef ?? '', ref ?? '', frame.topic, frame.event, Buffer.from(JSON.stringify(frame.payload))), true, `binary ${frame.event}`, uniqueRef);
  }
  let text: string;
  if (vsn === '2.0.0') text = JSON.stringify([frame.joinRef, ref, frame.topic, frame.event, frame.payload]);
  else {
    const object: Record<string, unknown> = { topic: frame.topic, event: frame.event, payload: frame.payload };
    if (!frame.omitNulls || ref !== null) object.ref = ref;
    if (!frame.omitNulls || frame.joinRef !== null) object.join_ref = frame.joinRef;
    text = JSON.stringify(object);
  }
  return { ...judge(vsn, text, false, frame.event, uniqueRef), ...(frame.event === 'phx_join' && { join: frame.payload }) };
}

function decodableArbitrary(events: EventWithTicketTypes[], tokens: Tokens): fc.Arbitrary<Decodable> {
  const eventIds = events.flatMap((e) => [e.id, e.id.toUpperCase()]);
  const typeIds = events.flatMap((e) => e.ticketTypes.map((t) => t.id));
  const name = (maxLength: number) => fc.string({ minLength: 1, maxLength });
  // A few names per connection, so joins, leaves and access_tokens meet the same channels.
  // More than the channel limit, so joins meet it.
  const pooled = fc.constantFrom(...'abcdefghijk'.split('').map((c) => `realtime:${c}`), `realtime:event-${events[0]!.id}-tickets`);
  const topic = fc.oneof(
    { weight: 12, arbitrary: pooled },
    { weight: 1, arbitrary: fc.constantFrom('phoenix', 'realtime:', 'realtime', 'REALTIME:a', ' realtime:a') },
    { weight: 1, arbitrary: name(40) },
    { weight: 1, arbitrary: name(40).map((s) => `realtime:${s}`) },
    // Huge: up to the 255 characters a topic may have, of any script.
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 200, maxLength: 255 }).map((s) => `realtime:${s}`.slice(0, 255)) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 255 }).map((n) => `realtime:${'t'.repeat(n - 9)}`) },
  );
  const token = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(tokens.mine, tokens.otherUser, tokens.organizer) },
    { weight: 1, arbitrary: fc.constantFrom(tokens.expired, 'garbage', '', 'a.b.c', `${tokens.mine}x`) },
  );

  const value = fc.oneof(
    fc.constantFrom(...eventIds, ...typeIds, 'reserved', 'sold', 'A, B', '"quoted"', '5', '-1', '1e400', 'true', '2026-11-21T12:00:00Z', 'not-a-uuid', ''),
    fc.string({ maxLength: 30 }),
  );
  const column = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('event_id', 'id', 'status', 'available_count', 'price', 'name', 'is_active', 'updated_at', 'holder_id', 'reservation_expires_at') },
    { weight: 1, arbitrary: fc.constantFrom('nope', 'Event_Id', '1abc', 'event id', '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const operator = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in') }, { weight: 1, arbitrary: fc.constantFrom('like', 'ilike', 'is', 'not', 'cs', 'EQ', '') });
  const condition = fc.tuple(column, operator, fc.array(value, { minLength: 1, maxLength: 4 })).map(([c, op, values]) =>
    op === 'in' ? `${c}=in.(${values.map((v) => (/[,()"]/.test(v) ? JSON.stringify(v) : v)).join(',')})` : `${c}=${op}.${values[0]}`,
  );
  const filter = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...events.map((e) => `event_id=eq.${e.id}`)) },
    { weight: 4, arbitrary: fc.array(condition, { minLength: 1, maxLength: 3 }).map((parts) => parts.join(',')) },
    { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
    // Past `in`'s 100 values, and unbalanced quotes and parentheses.
    { weight: 1, arbitrary: fc.array(fc.uuid(), { minLength: 95, maxLength: 110 }).map((ids) => `event_id=in.(${ids.join(',')})`) },
    { weight: 1, arbitrary: fc.constantFrom('name=eq."A, B', 'status=in.(reserved,sold', 'status=in.()', 'event_id=eq.', '=eq.1', 'event_id', ',', 'event_id=eq.a,,b') },
    // Longer than a filter may be (4096 characters).
    { weight: 1, arbitrary: fc.integer({ min: 4000, max: 4200 }).map((n) => `name=eq.${'n'.repeat(n)}`) },
  );
  const binding = fc.oneof(
    {
      weight: 20,
      arbitrary: fc.record(
        {
          event: fc.oneof({ weight: 16, arbitrary: fc.constantFrom('*', 'INSERT', 'UPDATE', 'DELETE') }, { weight: 1, arbitrary: fc.constantFrom('insert', 'TRUNCATE', '') }),
          schema: fc.oneof({ weight: 20, arbitrary: fc.constant('public') }, { weight: 1, arbitrary: fc.constantFrom('auth', 'realtime', 'PUBLIC') }),
          table: fc.oneof({ weight: 20, arbitrary: fc.constantFrom('event_tickets', 'tickets') }, { weight: 1, arbitrary: fc.constantFrom('reservations', 'events', '*', '', null) }),
          filter: fc.option(filter, { freq: 3, nil: undefined }),
          select: fc.oneof({ weight: 15, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) }),
        },
        { requiredKeys: ['event', 'schema'] },
      ),
    },
    // Wrong types where strings belong, and entries that are not objects.
    { weight: 1, arbitrary: fc.record({ event: fc.anything({ maxDepth: 1 }), schema: fc.anything({ maxDepth: 1 }), table: fc.anything({ maxDepth: 1 }), filter: fc.anything({ maxDepth: 1 }) }, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) },
  );
  const config = fc.oneof(
    { weight: 20, arbitrary: fc.record({ postgres_changes: fc.array(binding, { maxLength: 3 }), broadcast: fc.constant({ self: false, ack: false }), presence: fc.constant({ key: '' }) }, { requiredKeys: ['postgres_changes'] }) },
    { weight: 1, arbitrary: fc.record({ postgres_changes: fc.anything({ maxDepth: 2 }) }) },
    { weight: 1, arbitrary: fc.integer({ min: 101, max: 120 }).map((n) => ({ postgres_changes: Array.from({ length: n }, () => ({ event: '*', schema: 'public', table: 'event_tickets' })) })) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
  );
  const joinPayload = fc.record(
    {
      config,
      access_token: fc.oneof({ weight: 20, arbitrary: token }, { weight: 1, arbitrary: fc.constantFrom(null, 42, { token: 'x' }) }, { weight: 1, arbitrary: fc.constant('t'.repeat(9000)) }),
      version: fc.constantFrom('2.109.0', 'x'),
    },
    { requiredKeys: ['config'] },
  );
  const anyPayload = fc.dictionary(fc.string({ maxLength: 10 }), fc.anything({ maxDepth: 2 }), { maxKeys: 4 });
  const ref: fc.Arbitrary<Decodable['ref']> = fc.oneof(
    { weight: 16, arbitrary: fc.constant<'unique'>('unique') },
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom('1', '2', '') },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 255 }).map((n) => 'r'.repeat(n)) },
  );
  const joinRef = fc.oneof(fc.constant(null), fc.constantFrom('1', '2', '3'), fc.string({ maxLength: 20 }));
  const frame = (topicA: fc.Arbitrary<string>, event: fc.Arbitrary<string>, payload: fc.Arbitrary<unknown>, kind: 'text' | 'binary' = 'text') =>
    fc.record({ kind: fc.constant(kind), topic: topicA, event, payload, joinRef, ref, omitNulls: fc.boolean() });

  return fc.oneof(
    // Heartbeats at any time: before any join, between, after leaving, with stale or repeated refs.
    { weight: 6, arbitrary: frame(fc.constant('phoenix'), fc.constant('heartbeat'), fc.oneof(fc.constant({}), anyPayload)) },
    { weight: 1, arbitrary: frame(fc.constant('phoenix'), fc.oneof(fc.constantFrom('phx_join', 'phx_leave', 'access_token', 'Heartbeat'), name(30)), anyPayload) },
    { weight: 10, arbitrary: frame(topic, fc.constant('phx_join'), joinPayload) },
    { weight: 4, arbitrary: frame(topic, fc.constant('phx_leave'), anyPayload) },
    {
      weight: 4,
      arbitrary: frame(topic, fc.constant('access_token'), fc.oneof({ weight: 6, arbitrary: token.map((t) => ({ access_token: t })) }, { weight: 1, arbitrary: fc.record({ access_token: fc.anything({ maxDepth: 1 }) }) }, { weight: 1, arbitrary: anyPayload })),
    },
    { weight: 2, arbitrary: frame(topic, fc.constantFrom('broadcast', 'presence'), anyPayload) },
    // Events the server never takes from a client, and made-up ones.
    { weight: 3, arbitrary: frame(topic, fc.oneof(fc.constantFrom('heartbeat', 'phx_reply', 'phx_close', 'phx_error', 'system', 'postgres_changes', 'PHX_JOIN'), name(255)), anyPayload) },
    // Big payloads, well within the frame limit.
    { weight: 1, arbitrary: frame(topic, fc.constantFrom('phx_join', 'heartbeat', 'broadcast'), fc.integer({ min: 1000, max: 12_000 }).map((n) => ({ pad: 'p'.repeat(n) }))) },
    // Binary broadcast pushes, as realtime-js encodes them (ASCII names, so the reply's topic can be compared byte for byte).
    { weight: 2, arbitrary: frame(fc.oneof(pooled, fc.stringMatching(/^[a-z:]{1,40}$/)), fc.stringMatching(/^[a-z_]{1,20}$/), anyPayload, 'binary').map((f) => ({ ...f, joinRef: f.joinRef?.replace(/[^\x20-\x7e]/g, '') ?? null })) },
  );
}

/** The one frame a connection may end with: most cannot be decoded (a few can, by chance, and then must be answered). */
function lastFrameArbitrary(vsn: Vsn, decodable: fc.Arbitrary<Decodable>): fc.Arbitrary<WireFrame> {
  const text = (label: string, a: fc.Arbitrary<string>) => a.map((s) => judge(vsn, s, false, label));
  const other: Vsn = vsn === '1.0.0' ? '2.0.0' : '1.0.0';
  const valid = decodable.filter((f) => f.kind === 'text').map((f) => JSON.parse(encode(vsn, f, 'last').data as string) as unknown);
  /** A decodable frame with one field broken. */
  const nearMiss = fc.tuple(valid, fc.nat(), fc.constantFrom(42, null, '', 't'.repeat(256), [], {}, true, 'x')).map(([json, i, bad]) => {
    if (Array.isArray(json)) {
      const broken = [...(json as unknown[])];
      if (i % 7 === 5) broken.pop();
      else if (i % 7 === 6) broken.push(bad);
      else broken[i % 5] = bad;
      return JSON.stringify(broken);
    }
    const keys = ['topic', 'event', 'payload', 'ref', 'join_ref'];
    const broken: Record<string, unknown> = { ...(json as Record<string, unknown>) };
    if (i % 6 === 5) delete broken[keys[i % 3]!];
    else broken[keys[i % 5]!] = bad;
    return JSON.stringify(broken);
  });
  return fc.oneof(
    { weight: 3, arbitrary: text('near miss', nearMiss) },
    // The other vsn's format.
    { weight: 2, arbitrary: decodable.filter((f) => f.kind === 'text').map((f) => judge(vsn, encode(other, f, 'last').data as string, false, `vsn ${other} frame`)) },
    { weight: 2, arbitrary: text('random text', fc.string({ unit: 'binary', maxLength: 200 })) },
    { weight: 2, arbitrary: text('truncated', valid.chain((json) => fc.nat({ max: JSON.stringify(json).length - 1 }).map((n) => JSON.stringify(json).slice(0, n)))) },
    { weight: 1, arbitrary: text('JSON value', fc.anything({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'undefined')) },
    { weight: 1, arbitrary: text('deep nesting', fc.integer({ min: 100, max: 3000 }).map((n) => `[null,null,"phoenix","heartbeat",${'['.repeat(n)}${']'.repeat(n)}]`)) },
    { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => judge(vsn, Buffer.from(bytes), false, 'random bytes as text')) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => judge(vsn, Buffer.from(bytes), true, 'random binary')) },
    // A broadcast push whose header promises more than the frame holds.
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 255 }), fc.stringMatching(/^[a-z]{0,10}$/)).map(([n, s]) => judge(vsn, Buffer.concat([Buffer.from([3, 0, 0, n, 0, 0, 0]), Buffer.from(s)]), true, 'short binary')) },
    { weight: 2, arbitrary: fc.integer({ min: MAX_FRAME_BYTES + 1, max: 4 * MAX_FRAME_BYTES }).map((n) => judge(vsn, JSON.stringify([null, '1', 'phoenix', 'heartbeat', { pad: 'x'.repeat(n) }]), false, 'too big')) },
    { weight: 1, arbitrary: fc.integer({ min: MAX_FRAME_BYTES + 1, max: 2 * MAX_FRAME_BYTES }).map((n) => judge(vsn, Buffer.alloc(n, 3), true, 'too big binary')) },
  );
}

/** A raw Phoenix client: counts replies by ref as they come; resolves `until` when a condition holds or the socket closes. */
interface Reply {
  topic: string;
  ref: string | null;
  joinRef: string | null;
  payload: { status?: unknown; response?: { reason?: unknown; postgres_changes?: unknown } };
}

class RawPhoenix {
  readonly replies: Reply[] = [];
  readonly closed: Promise<number>;
  private wake = () => {};

  private constructor(
    readonly ws: WebSocket,
    readonly vsn: Vsn,
  ) {
    this.closed = new Promise((resolve) => ws.on('close', (code) => (resolve(code), this.wake())));
    ws.on('message', (data) => {
      const json = JSON.parse(data.toString()) as PhoenixFrame | Record<string, unknown>;
      const [joinRef, ref, topic, event, payload] = Array.isArray(json) ? json : toArray(json);
      if (event === 'phx_reply') this.replies.push({ topic, ref, joinRef, payload: payload as Reply['payload'] });
      this.wake();
    });
    ws.on('error', () => {});
  }

  static async open(baseUrl: string, path: string, query: Record<string, string>, vsn: Vsn): Promise<RawPhoenix> {
    const url = new URL(path, baseUrl.replace(/^http/, 'ws'));
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const result = await upgradeWebSocket(url.href);
    if (!('opened' in result)) throw new Error(`upgrade refused: ${result.status} ${result.body}`);
    return new RawPhoenix(result.opened, vsn);
  }

  /** Resolves true once `done` holds, false when the socket closed or `timeoutMs` passed first. */
  until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(done()), timeoutMs);
      this.wake = () => {
        if (!done() && this.ws.readyState !== this.ws.CLOSED) return;
        clearTimeout(timer);
        resolve(done());
      };
      this.wake();
    });
  }

  send(frame: WireFrame): void {
    this.ws.send(frame.data, { binary: frame.binary });
  }
}

interface Tally {
  frames: Record<Vsn, number>;
  connections: Record<Vsn, number>;
  replies: Record<string, number>;
  closes: Record<string, number>;
}

type Row = Record<string, unknown>;

describe('Supabase endpoint fuzzing', () => {
  let t: TestDatabase;
  let server: TestServer;
  let events: EventWithTicketTypes[];
  let tokens: Tokens;

  beforeAll(async () => {
    ({ t, server, events, tokens } = await startFuzzTarget({ maxFrameBytes: MAX_FRAME_BYTES, maxSubscriptions: MAX_CHANNELS }));
  });
  afterAll(async () => {
    await server?.close();
    await t?.dispose();
  });

  it('answers every Phoenix frame with one phx_reply or a documented close, keeps a supabase-js subscriber exact, and does not leak', async () => {
    const gc = collector();
    const decodable = decodableArbitrary(events, tokens);
    const tally: Tally = { frames: { '1.0.0': 0, '2.0.0': 0 }, connections: { '1.0.0': 0, '2.0.0': 0 }, replies: {}, closes: {} };
    const problems: string[] = [];

    // The control: the design's subscription with supabase-js, on an event the fuzzers join too, changing all along.
    const watched = events[0]!;
    const general = typeId(watched, 'General');
    const supabase = supabaseClient(server.url, await server.token('organizer'));
    const initial = await supabase.from('event_tickets').select('*').eq('event_id', watched.id);
    expect(initial.error).toBeNull();
    let typeRow = initial.data!.find((r: Row) => r.id === general) as Row;
    let versionGaps = 0;
    const seenTickets = new Map<string, Row>();
    let duplicateInserts = 0;
    const channel = supabase
      .channel(`event-${watched.id}-tickets`)
      .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'event_tickets', filter: `event_id=eq.${watched.id}` }, (p: RealtimePostgresChangesPayload<Row>) => {
        const old = p.old as Row;
        // Each UPDATE's old is the state sent before: a lost or reordered one shows as a gap.
        if (old.version !== typeRow.version) versionGaps += 1;
        typeRow = p.new as Row;
      })
      .on('postgres_changes', { event: '*', schema: 'public', table: 'tickets', filter: `event_id=eq.${watched.id}` }, (p: RealtimePostgresChangesPayload<Row>) => {
        const row = p.new as Row;
        if (p.eventType === 'INSERT' && seenTickets.has(String(row.id))) duplicateInserts += 1;
        seenTickets.set(String(row.id), row);
      });
    expect((await subscribeStatus(channel)).status).toBe('SUBSCRIBED');
    const churn = new EventChurn(server.service.holds, watched.id, general);

    /** One connection: a batch of decodable frames, every reply awaited and checked, then maybe one last frame that must close it. */
    const runConnection = async (vsn: Vsn, frames: Decodable[], last: WireFrame | undefined, path: string, sendVsn: boolean) => {
      // Enough to go on: the rest of the run would only repeat them, slowly (each waits out its timeout).
      if (problems.length >= 20) return;
      const socket = await RawPhoenix.open(server.url, path, { apikey: tokens.mine, ...(sendVsn && { vsn }) }, vsn);
      tally.connections[vsn] += 1;
      // A frame built to be decodable can still come out over the size limit: not sent here (too big is a last frame's business).
      const wire = frames.map((f, i) => encode(vsn, f, `u${i}`)).filter((f) => f.fatal === undefined);
      for (const f of wire) socket.send(f);
      tally.frames[vsn] += wire.length;
      await socket.until(() => socket.replies.length >= wire.length, 5000);
      const check = (sent: WireFrame[]) => {
        if (socket.replies.length !== sent.length) problems.push(`vsn ${vsn}: ${socket.replies.length} replies to ${sent.length} frames`);
        for (const f of sent) {
          if (!f.reply?.unique) continue;
          const replies = socket.replies.filter((r) => r.ref === f.reply!.ref);
          if (replies.length !== 1) problems.push(`vsn ${vsn}: ${replies.length} replies to ${f.label} on ${f.reply.topic.slice(0, 40)}: ${String(f.data).slice(0, 300)}`);
          else if (replies[0]!.topic !== f.reply.topic || replies[0]!.joinRef !== f.reply.joinRef) {
            problems.push(`vsn ${vsn}: the reply to ${f.label} names ${JSON.stringify([replies[0]!.joinRef, replies[0]!.topic])}, not ${JSON.stringify([f.reply.joinRef, f.reply.topic])}`);
          } else if (f.join !== undefined && replies[0]!.payload.status === 'ok' && !echoes(f.join, replies[0]!.payload.response?.postgres_changes)) {
            problems.push(`vsn ${vsn}: a join's reply does not echo its bindings: ${JSON.stringify(replies[0]!.payload).slice(0, 300)}`);
          }
        }
      };
      if (socket.ws.readyState !== socket.ws.OPEN) problems.push(`vsn ${vsn}: closed with ${await socket.closed} after ${socket.replies.length}/${wire.length} replies`);
      check(wire);
      if (last) {
        socket.send(last);
        tally.frames[vsn] += 1;
        if (last.fatal === undefined) {
          await socket.until(() => socket.replies.length > wire.length, 5000);
          check([...wire, last]);
        }
      }
      for (const r of socket.replies) {
        const { status, response } = r.payload;
        if (status === 'ok') count(tally.replies, 'ok');
        else if (status !== 'error' || typeof response?.reason !== 'string') problems.push(`vsn ${vsn}: a reply that is neither ok nor an error with a reason: ${JSON.stringify(r.payload)}`);
        else {
          const kind = DOCUMENTED_REFUSALS.find(([, pattern]) => pattern.test(response.reason as string))?.[0];
          if (!kind) problems.push(`vsn ${vsn}: undocumented refusal "${response.reason.slice(0, 160)}"`);
          count(tally.replies, kind ?? 'undocumented');
        }
      }
      if (last?.fatal !== undefined) {
        const code = await socket.closed;
        count(tally.closes, code);
        if (code !== last.fatal) problems.push(`vsn ${vsn}: ${last.label} closed with ${code}, expected ${last.fatal}`);
      } else {
        socket.ws.close();
        await socket.closed;
      }
    };

    const connection = (vsn: Vsn) =>
      fc.record({
        frames: fc.array(decodable, { minLength: BATCH, maxLength: BATCH }),
        // Two in three connections end with a frame the server cannot decode (fast-check's freq: one in 3 is nil).
        last: fc.option(lastFrameArbitrary(vsn, decodable), { freq: 3, nil: undefined }),
        path: fc.constantFrom('/realtime/v1/websocket', '/socket/websocket'),
        // Without vsn, Phoenix means 1.0.0.
        sendVsn: vsn === '1.0.0' ? fc.boolean() : fc.constant(true),
      });
    const run = (vsn: Vsn, numRuns: number, seed: number) =>
      fc.assert(
        // Each run records what went wrong; the whole is checked at the end, with counts.
        fc.asyncProperty(connection(vsn), async ({ frames, last, path, sendVsn }) => void (await runConnection(vsn, frames, last, path, sendVsn))),
        { numRuns, seed, endOnFailure: true },
      );

    // Warm-up (JIT, zod, caches) before the baseline.
    for (const vsn of VSNS) await run(vsn, 3, SEED + 1);
    await eventually(() => server.service.supabase.stats.sockets === 1, 'warm-up connections to close', 10_000);
    const heapBefore = await settledHeap(gc);
    const warmUp = { ...tally.frames };

    churn.start();
    const started = Date.now();
    for (const vsn of VSNS) await run(vsn, Math.ceil(FRAMES_PER_VSN / BATCH), SEED);
    const fuzzMs = Date.now() - started;
    await churn.stop();

    // The control ends exact: its last row is the database's, and it saw every tickets row once, in its latest state.
    const truth = await t.db.query<{ id: string; status: string }>('SELECT id, status FROM tickets WHERE event_id = $1', [watched.id]);
    const expectedRow = (await supabase.from('event_tickets').select('*').eq('id', general)).data![0] as Row;
    // Given time to catch up; if it never does, the comparisons below say how far off it is.
    await eventually(() => typeRow.version === expectedRow.version && seenTickets.size === truth.rows.length, 'the control subscriber to catch up', 10_000).catch(() => {});
    const ticketsExact = truth.rows.length > 0 && truth.rows.every((r) => seenTickets.get(r.id)?.status === r.status) && seenTickets.size === truth.rows.length;

    await eventually(() => server.service.supabase.stats.sockets === 1, 'the fuzz connections to be forgotten', 15_000);
    const held = server.service.supabase.stats;
    await supabase.removeAllChannels();
    await eventually(() => server.service.supabase.stats.sockets === 0, 'the control connection to close', 10_000);
    const heapAfter = await settledHeap(gc, { settleMs: 2500, times: 4 });

    const frames = { '1.0.0': tally.frames['1.0.0'] - warmUp['1.0.0'], '2.0.0': tally.frames['2.0.0'] - warmUp['2.0.0'] };
    await recordReliability({
      fault:
        'Supabase Realtime fuzzing (fast-check), vsn 1.0.0 and 2.0.0: bad and huge topics, joins with malformed postgres_changes configs and filters, unknown events, heartbeats in any order, access_token with bad tokens, binary frames, frames not of the vsn, not UTF-8 or too big',
      injected: frames['1.0.0'] + frames['2.0.0'],
      checked: [
        'every decodable frame answered by exactly one phx_reply with its ref, topic and join_ref; every refusal one docs/supabase.md lists',
        'every frame that cannot be decoded closes the connection with the documented code (1007, 1009 too big)',
        'a supabase-js subscriber of an event changing throughout ends exact: last event_tickets row equal to the database, no version gap, every tickets row once in its final state',
        'the endpoint lets go of every socket and channel; heap back near baseline after the run (in-process, gc forced)',
      ],
      figures: {
        frames: frames['1.0.0'] + frames['2.0.0'],
        frames_vsn1: frames['1.0.0'],
        frames_vsn2: frames['2.0.0'],
        connections: tally.connections['1.0.0'] + tally.connections['2.0.0'],
        ...Object.fromEntries(Object.entries(tally.replies).map(([k, v]) => [`reply_${k}`, v])),
        ...Object.fromEntries(Object.entries(tally.closes).map(([k, v]) => [`close_${k}`, v])),
        problems: problems.length,
        controlChanges: churn.changes,
        controlVersionGaps: versionGaps,
        controlDuplicateInserts: duplicateInserts,
        controlExact: typeRow.available_count === expectedRow.available_count && typeRow.version === expectedRow.version && ticketsExact,
        heapBeforeMB: megabytes(heapBefore),
        heapAfterMB: megabytes(heapAfter),
        fuzzMs,
        seed: SEED,
      },
    });

    expect(problems.slice(0, 10)).toEqual([]);
    expect(frames['1.0.0']).toBeGreaterThanOrEqual(FRAMES_PER_VSN);
    expect(frames['2.0.0']).toBeGreaterThanOrEqual(FRAMES_PER_VSN);
    expect(churn.changes).toBeGreaterThan(5);
    expect(versionGaps).toBe(0);
    expect(duplicateInserts).toBe(0);
    expect({ available: typeRow.available_count, reserved: typeRow.reserved_count, sold: typeRow.sold_count, version: typeRow.version }).toEqual({
      available: expectedRow.available_count,
      reserved: expectedRow.reserved_count,
      sold: expectedRow.sold_count,
      version: expectedRow.version,
    });
    expect(ticketsExact).toBe(true);
    // Only the control's socket and channel were left; nothing tracked beyond its event, one tickets listener.
    expect(held).toEqual({ sockets: 1, channels: 1, routedChannels: 1, trackedEvents: 1, ticketsListeners: 1 });
    expect(heapAfter - heapBefore).toBeLessThan(HEAP_SLACK_BYTES);
  }, 180_000);
});
