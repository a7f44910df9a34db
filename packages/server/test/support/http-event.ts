import { randomBytes } from 'node:crypto';

export interface CreatedEvent {
  id: string;
  ticketTypeIds: string[];
}

/** An on-sale event created through a node's HTTP API, for tests whose node is another process. */
export async function createEventOverHttp(
  baseUrl: string,
  organizerToken: string,
  ticketTypes: Array<{ name: string; totalCapacity: number; maxPerOrder: number }>,
): Promise<CreatedEvent> {
  const response = await fetch(`${baseUrl}/api/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${organizerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ slug: `event-${randomBytes(4).toString('hex')}`, name: 'Test Event', startsAt: '2027-06-01T20:00:00Z', ticketTypes }),
  });
  if (response.status !== 201) throw new Error(`creating the event failed: HTTP ${response.status} ${await response.text()}`);
  const { event } = (await response.json()) as { event: { id: string; ticketTypes: Array<{ id: string }> } };
  return { id: event.id, ticketTypeIds: event.ticketTypes.map((t) => t.id) };
}
