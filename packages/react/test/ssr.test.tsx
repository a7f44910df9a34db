import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { createEvent, typeId } from '../../server/test/support/fixtures.ts';
import { ConnectionStatus, TicketAvailabilityIndicator, TicketPulseProvider, useSingleTicketAvailability } from '../src/index.ts';
import { withLiveServer } from './support/live-server.ts';

function Seats({ eventId, ticketTypeId }: { eventId: string; ticketTypeId: string }) {
  const { available, connectionStatus } = useSingleTicketAvailability(eventId, ticketTypeId);
  return <p>{`${connectionStatus}: ${available ?? '?'}`}</p>;
}

describe('server rendering (no DOM, no WebSocket global)', () => {
  const live = withLiveServer();

  it('renders the empty state from options alone and opens no socket', async () => {
    const event = await createEvent(live.server.service.catalog);
    const general = typeId(event, 'General');
    const html = renderToString(
      <TicketPulseProvider options={{ url: live.server.url, getToken: () => live.server.token() }}>
        <ConnectionStatus eventId={event.id} />
        <TicketAvailabilityIndicator eventId={event.id} ticketTypeId={general} />
        <Seats eventId={event.id} ticketTypeId={general} />
      </TicketPulseProvider>,
    );
    expect(html).toContain('Connecting…');
    expect(html).toContain('Checking availability…');
    expect(html).toContain('connecting: ?');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(live.server.service.gateway.stats.connections).toBe(0);
  });
});
