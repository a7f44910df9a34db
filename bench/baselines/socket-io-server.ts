/**
 * The fan-out baseline: how a Socket.IO shop would push availability. A
 * trigger NOTIFYs every availability change with the event's counts; the
 * server emits each one to the event's room (`io.to(room).emit`), one message
 * per change. Joining a room sends the latest state first. Runs as its own
 * process and answers the same CPU and memory samples as the gateway worker.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { openPostgres } from '../../packages/server/src/db/postgres.ts';
import type { Counts } from '../harness/expected-state.ts';
import { serve, type Command } from '../harness/ipc.ts';
import { sampleProcess, type ProcessSample } from '../harness/process-sample.ts';
import { workerInit } from '../harness/workers.ts';

export interface SocketIoInit {
  url: string;
  options: string;
}

/** One change as it goes over the wire: the event's whole counts after it. */
export interface AvailabilityChange {
  eventId: string;
  version: number;
  committedAt: string;
  tickets: Counts[];
}

export interface SocketIoSample extends ProcessSample {
  emits: number;
  connections: number;
}

const CHANNEL = 'bench_socketio';

const CHANGE_JSON = `json_build_object(
  'eventId', e.id, 'version', e.availability_version, 'committedAt', e.availability_changed_at,
  'tickets', (SELECT json_agg(json_build_object('ticketTypeId', t.id, 'totalCapacity', t.total_capacity, 'soldCount', t.sold_count,
                                                'reservedCount', t.reserved_count, 'availableCount', t.available_count))
                FROM event_tickets t WHERE t.event_id = e.id AND t.status <> 'hidden'))`;

const TRIGGER = `
CREATE FUNCTION bench_socketio_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${CHANNEL}', (SELECT ${CHANGE_JSON} FROM events e WHERE e.id = NEW.id)::text);
  RETURN NULL;
END $$;
CREATE TRIGGER bench_socketio_notify AFTER UPDATE OF availability_version ON events FOR EACH ROW
  WHEN (OLD.availability_version IS DISTINCT FROM NEW.availability_version)
  EXECUTE FUNCTION bench_socketio_notify();`;

const init = await workerInit<SocketIoInit>();
const db = await openPostgres({ connectionString: init.url, options: init.options, maxConnections: 2, onError: () => {} });
await db.exec(TRIGGER);

const latest = new Map<string, AvailabilityChange>();
const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false });
let emits = 0;

await db.listen(CHANNEL, (payload) => {
  const change = JSON.parse(payload) as AvailabilityChange;
  const known = latest.get(change.eventId);
  if (!known || known.version < change.version) latest.set(change.eventId, change);
  io.to(change.eventId).emit('availability', change);
  emits += 1;
});
// Listening first, then reading: a change in between is in both, and clients keep the newer version.
const { rows } = await db.query<{ change: AvailabilityChange }>(`SELECT ${CHANGE_JSON} AS change FROM events e`);
for (const { change } of rows) if ((latest.get(change.eventId)?.version ?? 0) < change.version) latest.set(change.eventId, change);

io.on('connection', (socket) => {
  socket.on('join', (eventIds: unknown) => {
    if (!Array.isArray(eventIds)) return;
    for (const id of eventIds) {
      if (typeof id !== 'string') continue;
      void socket.join(id);
      const change = latest.get(id);
      if (change) socket.emit('availability', change);
    }
  });
});

process.on('SIGTERM', () => {
  io.close();
  void db.close().finally(() => process.exit(0));
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const address = http.address();
serve<Command & { type: 'sample'; gc?: boolean }>(
  (command) => {
    const sample: SocketIoSample = { ...sampleProcess(command.gc), emits, connections: io.engine.clientsCount };
    return { sample };
  },
  { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` },
);
