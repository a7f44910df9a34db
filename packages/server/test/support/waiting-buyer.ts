import { randomUUID } from 'node:crypto';
import { createEvent, typeId } from './fixtures.ts';
import type { TestServer } from './server.ts';

/**
 * An event whose two VIP seats someone else holds, and a buyer (a fresh
 * user) in the VIP waiting list for `quantity` of them: `makeOffer()`
 * releases the other hold, and the database offers the seats to the buyer.
 */
export async function waitingBuyer(server: TestServer, quantity: number) {
  const event = await createEvent(server.service.catalog);
  const vip = typeId(event, 'VIP');
  const other = randomUUID();
  const { reservation: theirs } = await server.service.holds.reserve({ eventId: event.id, holderId: other, items: [{ ticketTypeId: vip, quantity: 2 }] });
  const userId = randomUUID();
  const token = await server.token('authenticated', userId);
  const joined = await server.request('POST', `/api/event-tickets/${vip}/waitlist`, { token, body: { quantity } });
  if (joined.status !== 201) throw new Error(`joining the waiting list answered ${joined.status}`);
  return { event, vip, userId, token, entryId: joined.body.entry.id as string, makeOffer: () => server.service.holds.release(theirs.id, other) };
}
