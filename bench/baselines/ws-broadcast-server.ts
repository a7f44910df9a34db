/**
 * The floor of the gateway's fan-outs (bench/scenarios/queue-viewers.ts,
 * bench/scenarios/fan-out.ts): a bare `ws` server in a process of its own,
 * no database, no auth. It answers a viewer's subscribe with a bare snapshot
 * and, every tick of a `broadcast` command (`queue` frames) or an `updates`
 * command (availability `updates` frames), builds one frame, WebSocket
 * header included, once, and writes those same bytes to every socket with
 * one socket.write each: the least one Node process can do to put a frame on
 * N sockets.
 */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import type { AvailabilityUpdate } from '@ticketpulse/protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodeTextFrame } from '../../packages/server/src/realtime/text-frame.ts';
import { serve, type Command } from '../harness/ipc.ts';
import { sampleProcess } from '../harness/process-sample.ts';
import type { AdmissionMark } from '../harness/queue-frames.ts';
import { sleep } from '../harness/stats.ts';

export interface UpdatesBroadcast {
  seconds: number;
  /** One frame per socket every tickMs; 0: back to back (one round after another, I/O in between), to find how many frames/s it sustains. */
  tickMs: number;
  /** Write to the first `viewers` subscribed sockets only. */
  viewers: number;
  /** A whole update of the watched event: each frame carries it with a new version and committedAt (when the frame was built). */
  update: AvailabilityUpdate;
  /** A socket with more unsent bytes than this is skipped for the round (as the gateway skips a slow consumer), so nothing queues without bound. */
  softBufferBytes: number;
}

export interface UpdatesBroadcastResult {
  rounds: number;
  framesWritten: number;
  framesSkipped: number;
  /** The most unsent bytes seen on one socket, and across all, at the end of a round. */
  maxBufferedBytes: number;
  maxTotalBufferedBytes: number;
  ms: number;
}

export type BroadcastCommand =
  | (Command & { type: 'sample'; gc?: boolean })
  | (Command & { type: 'broadcast'; seconds: number; tickMs: number; perTick: number })
  | (Command & { type: 'updates' } & UpdatesBroadcast);

const http = createServer();
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
/** The TCP socket under each WebSocket (ws keeps it in a private field; this baseline writes to it directly). */
const sockets = new Set<Socket>();

wss.on('connection', (ws: WebSocket) => {
  const raw = (ws as unknown as { _socket: Socket })._socket;
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { type?: string; eventId?: string };
    if (message.type !== 'subscribe' || !message.eventId) return;
    const serverTime = new Date().toISOString();
    ws.send(JSON.stringify({ type: 'subscribed', eventId: message.eventId, version: 1, serverTime, unchanged: false, snapshot: { eventId: message.eventId, version: 1, serverTime, tickets: [] } }));
    sockets.add(raw);
  });
  ws.on('close', () => sockets.delete(raw));
});

async function broadcast(seconds: number, tickMs: number, perTick: number): Promise<AdmissionMark[]> {
  const ticks: AdmissionMark[] = [];
  const opensAt = new Date().toISOString();
  const end = performance.now() + seconds * 1000;
  for (let servedUpTo = perTick; performance.now() < end; servedUpTo += perTick) {
    const atMs = Date.now();
    const body = { type: 'queue', serverTime: new Date(atMs).toISOString(), eventId: 'baseline', status: 'open', opensAt, servedUpTo, length: 1_000_000 - servedUpTo, rate: 6000, ticketsLeft: 1000 };
    const frame = encodeTextFrame(Buffer.from(JSON.stringify(body)));
    for (const socket of sockets) socket.write(frame);
    ticks.push({ servedUpTo, atMs });
    await sleep(Math.max(0, atMs + tickMs - Date.now()));
  }
  return ticks;
}

async function broadcastUpdates(o: UpdatesBroadcast): Promise<UpdatesBroadcastResult> {
  const result: UpdatesBroadcastResult = { rounds: 0, framesWritten: 0, framesSkipped: 0, maxBufferedBytes: 0, maxTotalBufferedBytes: 0, ms: 0 };
  const targets = [...sockets].slice(0, o.viewers);
  const started = performance.now();
  const end = started + o.seconds * 1000;
  for (let version = o.update.version + 1; performance.now() < end; version += 1) {
    const atMs = Date.now();
    const at = new Date(atMs).toISOString();
    const update: AvailabilityUpdate = { ...o.update, version, previousVersion: 0, committedAt: at, snapshot: true };
    const frame = encodeTextFrame(Buffer.from(JSON.stringify({ type: 'updates', serverTime: at, updates: [update] })));
    let total = 0;
    for (const socket of targets) {
      const buffered = socket.writableLength;
      total += buffered;
      result.maxBufferedBytes = Math.max(result.maxBufferedBytes, buffered);
      if (buffered > o.softBufferBytes) {
        result.framesSkipped += 1;
        continue;
      }
      socket.write(frame);
      result.framesWritten += 1;
    }
    result.maxTotalBufferedBytes = Math.max(result.maxTotalBufferedBytes, total);
    result.rounds += 1;
    if (o.tickMs > 0) await sleep(Math.max(0, atMs + o.tickMs - Date.now()));
    else await new Promise((resolve) => setImmediate(resolve));
  }
  result.ms = performance.now() - started;
  return result;
}

process.on('SIGTERM', () => {
  wss.close();
  http.close();
  process.exit(0);
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const address = http.address();
serve<BroadcastCommand>(
  async (command) => {
    if (command.type === 'broadcast') return { ticks: await broadcast(command.seconds, command.tickMs, command.perTick) };
    if (command.type === 'updates') return { result: await broadcastUpdates(command) };
    return { sample: sampleProcess(command.gc) };
  },
  { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` },
);
