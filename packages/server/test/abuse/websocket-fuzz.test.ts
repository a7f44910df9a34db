import { CloseCode, type RealtimeErrorCode, type ServerMessage } from '@ticketpulse/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { EventWithTicketTypes } from '../../src/inventory/catalog.ts';
import type { TestDatabase } from '../support/database.ts';
import { typeId } from '../support/fixtures.ts';
import { collector, count, EventChurn, isUtf8, megabytes, settledHeap, startFuzzTarget, type FuzzTarget } from '../support/fuzzing.ts';
import { TestSocket } from '../support/realtime-client.ts';
import { recordReliability } from '../support/reliability-report.ts';
import type { TestServer } from '../support/server.ts';
import { eventually, watch, type EventView } from '../support/viewer.ts';

/**
 * Property-based fuzzing of the realtime gateway: well over 100,000 frames of
 * garbage, near-misses and valid messages in the wrong order, spread over
 * many connections, while a control viewer watches an event that keeps
 * changing. Every frame must be answered (one reply each) or end in a
 * documented close; the control viewer must end exact; the heap must come
 * back near where it started.
 *
 * The server runs in this worker (PGlite, in memory): the heap measured is
 * this process's, after forcing collections (support/fuzzing.ts's collector).
 */

const FRAMES = Number(process.env.TICKETPULSE_FUZZ_FRAMES ?? 100_000);
const SEED = Number(process.env.TICKETPULSE_FUZZ_SEED ?? 8);
const BATCH = 250;
/** Frames that open an unauthenticated connection: the first frame decides whether it lives. */
const PRE_AUTH_RUNS = 400;
const MAX_FRAME_BYTES = 16 * 1024;
/** Growth allowed after the run, once the collector has run: a leak of one object per frame would pass it many times over. */
const HEAP_SLACK_BYTES = 24 * 1024 * 1024;

const ERROR_CODES: ReadonlySet<RealtimeErrorCode> = new Set<RealtimeErrorCode>([
  'invalid_message',
  'unknown_message_type',
  'already_authenticated',
  'event_not_found',
  'forbidden',
  'too_many_channels',
  'rate_limited',
  'invalid_token',
  'token_subject_mismatch',
  'internal_error',
]);
/** Replies a frame may get; `updates` and `welcome` are not replies. */
const REPLY_TYPES = new Set(['error', 'subscribed', 'unsubscribed', 'pong', 'token_refreshed']);

/** One frame to send, and the close it must cause if it is not answered. */
interface Frame {
  data: string | Uint8Array;
  binary: boolean;
  /** The close code this frame must end the connection with (too big, not UTF-8). */
  fatal?: number;
}

function classify(frame: Frame): Frame {
  const size = typeof frame.data === 'string' ? Buffer.byteLength(frame.data) : frame.data.byteLength;
  if (size > MAX_FRAME_BYTES) return { ...frame, fatal: CloseCode.messageTooBig };
  if (!frame.binary && typeof frame.data !== 'string' && !isUtf8(frame.data)) return { ...frame, fatal: 1007 };
  return frame;
}

type Tokens = FuzzTarget['tokens'];

function frameArbitrary(events: EventWithTicketTypes[], tokens: Tokens): fc.Arbitrary<Frame> {
  const text = (a: fc.Arbitrary<string>) => a.map((data): Frame => ({ data, binary: false }));
  const json = (a: fc.Arbitrary<unknown>) => text(a.map((v) => JSON.stringify(v) ?? 'undefined'));
  const known = fc.constantFrom(...events.flatMap((e) => [e.id, e.slug, e.id.toUpperCase()]));
  const eventId = fc.oneof(
    // Unknown ids and slugs cost the server database reads: enough of them to matter, not to dominate the run.
    { weight: 24, arbitrary: known },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,30}$/) },
    { weight: 1, arbitrary: fc.string({ maxLength: 120 }) },
  );
  const ref = fc.option(fc.string({ maxLength: 70 }), { nil: undefined });
  const token = fc.constantFrom(tokens.mine, tokens.otherUser, tokens.expired, 'garbage', '', 'a.b.c');
  // Up to ~15 KB over three fields: under the frame limit (frames past it are the fatal ones, generated apart).
  const huge = fc.integer({ min: 1000, max: 5000 }).map((n) => 'x'.repeat(n));
  const valid = fc.oneof(
    fc.record({ type: fc.constant('subscribe'), eventId, ref, sinceVersion: fc.option(fc.nat(50), { nil: undefined }) }, { requiredKeys: ['type', 'eventId'] }),
    fc.record({ type: fc.constant('unsubscribe'), eventId, ref }, { requiredKeys: ['type', 'eventId'] }),
    fc.record({ type: fc.constant('ping'), ref }, { requiredKeys: ['type'] }),
    // Twice-authenticating and refreshing with someone else's, an expired or a garbage token.
    fc.record({ type: fc.constantFrom('auth', 'refresh_token'), token, ref }, { requiredKeys: ['type', 'token'] }),
  );
  const nested = fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => {
    const inner = open.repeat(depth) + '1' + (open === '[' ? ']' : '}').repeat(depth);
    return `{"type":"ping","ref":${inner}}`;
  });
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.uint8Array({ maxLength: 200 }).map((data): Frame => ({ data, binary: true })) },
      { weight: 3, arbitrary: fc.uint8Array({ maxLength: 200 }).map((data): Frame => ({ data, binary: false })) },
      { weight: 3, arbitrary: text(fc.string({ unit: 'binary', maxLength: 200 })) },
      // Truncated JSON: any strict prefix of an object is invalid.
      { weight: 3, arbitrary: text(fc.tuple(valid, fc.nat()).map(([m, n]) => JSON.stringify(m).slice(0, n % JSON.stringify(m).length))) },
      // Wrong types in the right places.
      {
        weight: 4,
        arbitrary: json(
          fc.record(
            { type: fc.constantFrom('auth', 'subscribe', 'unsubscribe', 'ping', 'refresh_token'), eventId: fc.anything(), ref: fc.anything(), token: fc.anything(), sinceVersion: fc.anything() },
            { requiredKeys: ['type'] },
          ),
        ),
      },
      { weight: 2, arbitrary: json(fc.anything({ maxDepth: 4 })) },
      // Huge numbers, written as JSON text so they survive as the server sees them.
      {
        weight: 2,
        arbitrary: text(
          fc.tuple(known, fc.constantFrom('1e400', '-1e400', '1e308', '9007199254740993', '-1', '1.5', '-0', '123456789012345678901234567890', 'NaN', '"7"')).map(
            ([id, n]) => `{"type":"subscribe","eventId":"${id}","sinceVersion":${n}}`,
          ),
        ),
      },
      // Huge strings, some past the frame limit.
      { weight: 1, arbitrary: json(fc.tuple(fc.constantFrom('ping', 'subscribe', 'auth'), huge).map(([type, s]) => ({ type, ref: s, eventId: s, token: s }))) },
      { weight: 1, arbitrary: text(nested) },
      { weight: 2, arbitrary: json(fc.record({ type: fc.string({ maxLength: 60 }), payload: fc.anything({ maxDepth: 2 }) })) },
      { weight: 8, arbitrary: json(valid) },
    )
    .map(classify);
}

/** A batch for one connection: BATCH answerable frames, then, one time in three, one that must close it. */
function batchArbitrary(frame: fc.Arbitrary<Frame>): fc.Arbitrary<Frame[]> {
  const answerable = frame.filter((f) => f.fatal === undefined);
  const fatal = fc.oneof(
    fc.integer({ min: MAX_FRAME_BYTES + 1, max: 4 * MAX_FRAME_BYTES }).map((n): Frame => ({ data: `{"type":"ping","ref":"${'x'.repeat(n)}"}`, binary: false })),
    fc.uint8Array({ minLength: 1, maxLength: 200 }).map((data): Frame => ({ data, binary: false })),
  ).map(classify).filter((f) => f.fatal !== undefined);
  return fc
    .tuple(fc.array(answerable, { minLength: BATCH, maxLength: BATCH }), fc.option(fatal, { freq: 2, nil: undefined }))
    .map(([frames, last]) => (last ? [...frames, last] : frames));
}

interface Tally {
  connections: number;
  frames: number;
  replies: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
}

interface RawSocket {
  ws: WebSocket;
  messages: ServerMessage[];
  /** Replies so far (not `welcome`, not `updates`). */
  replies: number;
  closed: Promise<number>;
  /** Resolves once `done` holds after a message, or the socket closes. */
  until(done: () => boolean, timeoutMs: number): Promise<void>;
}

/** Opens without waiting for anything but the handshake; replies are counted as they come. */
async function openRaw(url: string, query: Record<string, string>): Promise<RawSocket> {
  const target = new URL('/realtime', url.replace(/^http/, 'ws'));
  for (const [k, v] of Object.entries(query)) target.searchParams.set(k, v);
  const ws = new WebSocket(target);
  let wake = () => {};
  const socket: RawSocket = {
    ws,
    messages: [],
    replies: 0,
    closed: new Promise<number>((resolve) => ws.on('close', (code) => (resolve(code), wake()))),
    until: (done, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms (${socket.replies} replies)`)), timeoutMs);
        wake = () => {
          if (!done() && ws.readyState !== ws.CLOSED) return;
          clearTimeout(timer);
          resolve();
        };
        wake();
      }),
  };
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as ServerMessage;
    socket.messages.push(message);
    if (REPLY_TYPES.has(message.type)) socket.replies += 1;
    wake();
  });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return socket;
}

const send = (ws: WebSocket, frame: Frame) => ws.send(frame.data, { binary: frame.binary });

describe('websocket fuzzing', () => {
  let t: TestDatabase;
  let server: TestServer;
  let events: EventWithTicketTypes[];
  let tokens: Tokens;

  beforeAll(async () => {
    ({ t, server, events, tokens } = await startFuzzTarget({ maxFrameBytes: MAX_FRAME_BYTES, authTimeoutMs: 5000 }));
  });
  afterAll(async () => {
    await server?.close();
    await t?.dispose();
  });

  it('answers every frame with a reply or a documented close, keeps a control viewer exact, and does not leak', async () => {
    const gc = collector();
    const frame = frameArbitrary(events, tokens);
    const tally: Tally = { connections: 0, frames: 0, replies: 0, errors: {}, closes: {} };
    const problems: string[] = [];

    // A control viewer on an event the fuzzer subscribes to too, changing all along.
    const watched = events[0]!;
    const general = typeId(watched, 'General');
    const control = await TestSocket.connect(server.url, await server.token());
    const view: EventView = await watch(control, watched.id);
    const controlPings: number[] = [];
    // After each change, the control's round trip.
    const churn = new EventChurn(server.service.holds, watched.id, general, async (change) => {
      const sentAt = Date.now();
      control.send({ type: 'ping', ref: `c${change}` });
      await control.next((m) => m.type === 'pong' && m.ref === `c${change}`, 15_000);
      controlPings.push(Date.now() - sentAt);
    });
    churn.start();

    /** Sends one batch on an authenticated connection and checks it was answered frame for frame, or closed as it must be. */
    const runBatch = async (frames: Frame[]) => {
      const socket = await openRaw(server.url, { token: tokens.mine });
      tally.connections += 1;
      await socket.until(() => socket.messages.some((m) => m.type === 'welcome'), 10_000);
      for (const f of frames) send(socket.ws, f);
      tally.frames += frames.length;
      const fatal = frames.at(-1)?.fatal;
      const answerable = fatal === undefined ? frames.length : frames.length - 1;
      await socket.until(() => socket.replies >= answerable, 20_000);
      if (fatal === undefined) {
        if (socket.ws.readyState !== socket.ws.OPEN) problems.push(`closed after ${socket.replies}/${answerable} replies`);
        if (socket.replies !== answerable) problems.push(`${socket.replies} replies to ${answerable} frames`);
        socket.ws.close();
      }
      const code = await socket.closed;
      if (fatal !== undefined) {
        count(tally.closes, code);
        if (code !== fatal) problems.push(`closed with ${code}, expected ${fatal}`);
      }
      tally.replies += socket.replies;
      for (const m of socket.messages) {
        if (m.type !== 'error') continue;
        count(tally.errors, m.code);
        if (!ERROR_CODES.has(m.code)) problems.push(`undocumented error code ${m.code}`);
        if (m.code === 'internal_error') problems.push('internal_error');
      }
    };

    /** An unauthenticated connection: its first frame must be a valid `auth`, or it is closed. */
    const runPreAuth = async (frames: Frame[]) => {
      const socket = await openRaw(server.url, {});
      tally.connections += 1;
      for (const f of frames) send(socket.ws, f);
      tally.frames += frames.length;
      await socket.until(() => socket.messages.some((m) => m.type === 'welcome'), 10_000);
      if (socket.ws.readyState === socket.ws.OPEN) {
        socket.ws.close();
        await socket.closed;
        count(tally.closes, 'welcomed');
        return;
      }
      const code = await socket.closed;
      count(tally.closes, code);
      const first = frames[0]!;
      const expected = first.fatal ?? CloseCode.unauthorized;
      const tokenExpired = code === CloseCode.tokenExpired && typeof first.data === 'string' && first.data.includes(tokens.expired);
      if (code !== expected && !tokenExpired) problems.push(`pre-auth close ${code}, expected ${expected} for ${String(first.data).slice(0, 80)}`);
    };

    const preAuth = fc.tuple(
      fc.oneof(frame, fc.constant<Frame>({ data: JSON.stringify({ type: 'auth', token: tokens.mine }), binary: false })),
      fc.array(frame, { maxLength: 3 }),
    );

    // Warm-up (JIT, zod, caches) before the baseline.
    await fc.assert(fc.asyncProperty(batchArbitrary(frame), async (frames) => void (await runBatch(frames))), { numRuns: 4, seed: SEED + 1 });
    await eventually(() => server.service.gateway.stats.connections === 1, 'warm-up connections to close', 10_000);
    const heapBefore = await settledHeap(gc);
    const warmUp = { frames: tally.frames, connections: tally.connections };

    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(preAuth, async ([first, rest]) => {
        await runPreAuth([first, ...rest.filter((f) => f.fatal === undefined)]);
      }),
      { numRuns: PRE_AUTH_RUNS, seed: SEED, endOnFailure: true },
    );
    const batchRuns = Math.ceil((FRAMES - (tally.frames - warmUp.frames)) / BATCH);
    await fc.assert(
      // Each run records what went wrong; the whole is checked at the end, with counts.
      fc.asyncProperty(batchArbitrary(frame), async (frames) => void (await runBatch(frames))),
      { numRuns: batchRuns, seed: SEED, endOnFailure: true },
    );
    const fuzzMs = Date.now() - started;

    await churn.stop();
    const snapshot = await server.request('GET', `/api/events/${watched.id}/availability`);
    await eventually(() => view.version === snapshot.body.version, 'the control viewer to reach the latest version', 10_000);
    const expected = snapshot.body.tickets.find((x: { ticketTypeId: string }) => x.ticketTypeId === general);
    const seen = view.ticket(general)!;

    await eventually(() => server.service.gateway.stats.connections === 1, 'the fuzz connections to be forgotten', 15_000);
    const stats = server.service.gateway.stats;
    control.close();
    await control.closed;
    await eventually(() => server.service.gateway.stats.connections === 0, 'the control connection to close', 10_000);
    // Sockets and timers (2 s close guards) go before measuring.
    const heapAfter = await settledHeap(gc, { settleMs: 2500, times: 4 });

    const frames = tally.frames - warmUp.frames;
    await recordReliability({
      fault: 'websocket fuzzing (fast-check): random bytes (binary and text, invalid UTF-8), truncated JSON, wrong types, huge numbers and strings, deep nesting, unknown types, valid messages in invalid orders',
      injected: frames,
      checked: [
        'every frame on an authenticated connection gets exactly one reply (error, subscribed, unsubscribed, pong, token_refreshed) or the documented close (1009 too big, 1007 not UTF-8)',
        'an unauthenticated connection whose first frame is not a valid auth is closed 4001 (1009/1007 for frames the WebSocket layer refuses)',
        'no internal_error, only documented error codes',
        'a control viewer of an event changing throughout ends exact, with no gaps',
        'heap back near baseline after the run (in-process, gc forced)',
      ],
      figures: {
        frames,
        connections: tally.connections - warmUp.connections,
        replies: tally.replies,
        errorReplies: Object.values(tally.errors).reduce((a, b) => a + b, 0),
        ...Object.fromEntries(Object.entries(tally.errors).map(([k, v]) => [`error_${k}`, v])),
        ...Object.fromEntries(Object.entries(tally.closes).map(([k, v]) => [`close_${k}`, v])),
        problems: problems.length,
        controlChanges: churn.changes,
        controlUpdates: view.updates,
        controlGaps: view.gaps,
        controlPingMaxMs: Math.max(...controlPings),
        heapBeforeMB: megabytes(heapBefore),
        heapAfterMB: megabytes(heapAfter),
        fuzzMs,
        seed: SEED,
      },
    });

    expect(problems.slice(0, 10)).toEqual([]);
    expect(frames).toBeGreaterThanOrEqual(FRAMES);
    expect(churn.changes).toBeGreaterThan(5);
    expect(view.gaps).toBe(0);
    expect({ available: seen.availableCount, reserved: seen.reservedCount, sold: seen.soldCount }).toEqual({
      available: expected.availableCount,
      reserved: expected.reservedCount,
      sold: expected.soldCount,
    });
    expect(stats.connections).toBe(1);
    expect(heapAfter - heapBefore).toBeLessThan(HEAP_SLACK_BYTES);
  }, 120_000);
});
