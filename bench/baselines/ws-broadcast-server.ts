/**
 * The floor of the waiting room's fan-out (bench/scenarios/queue-viewers.ts):
 * a bare `ws` server in a process of its own, no database, no auth. It
 * answers a viewer's subscribe with a bare snapshot and, every tick of a
 * `broadcast` command, builds one `queue` frame, WebSocket header included,
 * once, and writes those same bytes to every socket with one socket.write
 * each: the least one Node process can do to put a frame on N sockets.
 */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { serve, type Command } from '../harness/ipc.ts';
import { sampleProcess } from '../harness/process-sample.ts';
import type { AdmissionMark } from '../harness/queue-frames.ts';
import { sleep } from '../harness/stats.ts';

export type BroadcastCommand = (Command & { type: 'sample'; gc?: boolean }) | (Command & { type: 'broadcast'; seconds: number; tickMs: number; perTick: number });

/** One unmasked text frame (server to client) around `payload`. */
function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const header = n < 126 ? Buffer.from([0x81, n]) : n < 65_536 ? Buffer.from([0x81, 126, n >> 8, n & 0xff]) : undefined;
  if (!header) throw new Error('frame too large for this baseline');
  return Buffer.concat([header, payload]);
}

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
    const frame = textFrame(Buffer.from(JSON.stringify(body)));
    for (const socket of sockets) socket.write(frame);
    ticks.push({ servedUpTo, atMs });
    await sleep(Math.max(0, atMs + tickMs - Date.now()));
  }
  return ticks;
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
    return { sample: sampleProcess(command.gc) };
  },
  { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` },
);
