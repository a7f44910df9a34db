import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, drivers, type TestDatabase } from '../support/database.ts';
import { createEvent, typeId } from '../support/fixtures.ts';
import { PhoenixSocket } from '../support/phoenix-socket.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { eventually } from '../support/viewer.ts';

const BUYERS = 40;

/** A raw client of our realtime protocol that keeps every byte the gateway sends. */
async function rawViewer(server: TestServer, token: string, eventId: string): Promise<{ bytes: Buffer[]; ws: WebSocket }> {
  const url = new URL('/realtime', server.url.replace(/^http/, 'ws'));
  url.searchParams.set('token', token);
  const ws = new WebSocket(url);
  const bytes: Buffer[] = [];
  ws.on('message', (data: Buffer) => bytes.push(Buffer.from(data)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'subscribe', eventId, ref: 's' }));
  return { bytes, ws };
}

describe.each(drivers)('data filtering (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it('sends an anonymous viewer no holder or reservation identifier during a busy sale, on either endpoint', async () => {
    const event = await createEvent(server.service.catalog, {
      ticketTypes: [
        { name: 'General', totalCapacity: 500, maxPerOrder: 4 },
        { name: 'VIP', totalCapacity: 100, maxPerOrder: 2 },
      ],
    });
    const anon = await server.token('anon', randomUUID());
    const ours = await rawViewer(server, anon, event.id);
    const supabase = await PhoenixSocket.open(server.url, anon);
    expect((await supabase.join('all', [{ table: 'event_tickets' }, { table: 'tickets' }])).status).toBe('ok');
    expect((await supabase.join('event', [{ table: 'tickets', filter: `event_id=eq.${event.id}` }])).status).toBe('ok');

    // Every buyer holds twice over HTTP; then confirms, extends or releases.
    const holders = Array.from({ length: BUYERS }, () => randomUUID());
    const reservationIds: string[] = [];
    const outcomes = { confirmed: 0, extended: 0, released: 0, held: 0 };
    await Promise.all(
      holders.map(async (holder, i) => {
        const token = await server.token('authenticated', holder);
        for (const name of ['General', 'VIP']) {
          const held = await server.request('POST', `/api/events/${event.id}/reservations`, {
            token,
            body: { items: [{ ticketTypeId: typeId(event, name), quantity: 1 + (i % 2) }] },
          });
          expect(held.status).toBe(201);
          const id: string = held.body.reservation.id;
          reservationIds.push(id);
          const action = (['confirm', 'extend', 'release', 'keep'] as const)[(i + reservationIds.length) % 4]!;
          const request = {
            confirm: ['POST', `/api/reservations/${id}/confirm`, 'confirmed'],
            extend: ['POST', `/api/reservations/${id}/extend`, 'extended'],
            release: ['DELETE', `/api/reservations/${id}`, 'released'],
            keep: undefined,
          } as const;
          const step = request[action];
          if (step) expect((await server.request(step[0], step[1], { token })).status).toBe(200);
          outcomes[step?.[2] ?? 'held'] += 1;
        }
      }),
    );
    // The viewers are caught up: the last frame of ours shows the final counts, Supabase has every ticket row change.
    const { rows } = await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM tickets WHERE event_id = $1`, [event.id]);
    const ticketRows = Number(rows[0]!.n);
    const available = async () => (await server.request('GET', `/api/events/${event.id}/availability`)).body.tickets.map((x: { availableCount: number }) => x.availableCount);
    const final = await available();
    await eventually(() => ours.bytes.some((b) => b.toString().includes(`"availableCount":${final[0]}`)), 'our viewer saw the final count', 5000);
    await eventually(() => supabase.frames.filter((f) => f[3] === 'postgres_changes' && f[4].data && JSON.stringify(f[4]).includes('"table":"tickets"')).length >= ticketRows, 'Supabase saw every ticket row', 10_000);

    const captured: Array<[string, string]> = [
      ['realtime', Buffer.concat(ours.bytes).toString('utf8')],
      ['supabase', supabase.raw.join('\n')],
    ];
    const identifiers = [...holders, ...reservationIds];
    for (const [endpoint, text] of captured) {
      for (const id of identifiers) {
        expect(text, endpoint).not.toContain(id);
        expect(text.toLowerCase(), endpoint).not.toContain(id.replaceAll('-', ''));
      }
      expect(text, endpoint).not.toMatch(/holder|reservation_id|reservationId/i);
    }
    ours.ws.close();
    supabase.close();
    await recordReliability({
      fault: `security/data-filtering (${driver}): every byte sent to an anonymous viewer during a busy sale, both endpoints`,
      injected: reservationIds.length,
      checked: ['no holder id, no reservation id (dashed or not), no holder/reservation field names in any frame'],
      figures: {
        buyers: BUYERS,
        reservations: reservationIds.length,
        ...outcomes,
        ticketRowChanges: ticketRows,
        realtimeFrames: ours.bytes.length,
        realtimeBytes: captured[0]![1].length,
        supabaseFrames: supabase.raw.length,
        supabaseBytes: captured[1]![1].length,
        identifiersFound: 0,
      },
    });
  });
});
