import './support/dom.ts';
import { render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { createEvent, typeId } from '../../server/test/support/fixtures.ts';
import { TicketPulseProvider } from '../src/index.ts';
import { withLiveServer } from './support/live-server.ts';
import { prepareSeedExamples, TicketCard, TicketSelection, toasts } from './support/seed-examples.jsx';

describe("the design's usage examples, unchanged, against a real server", () => {
  const live = withLiveServer();

  it('TicketCard shows the real counts and TicketSelection hears low stock and sold out', async () => {
    const event = await createEvent(live.server.service.catalog); // General: 10, VIP: 2
    const general = typeId(event, 'General');
    const vip = typeId(event, 'VIP');
    const { manager } = live.manager();
    prepareSeedExamples(vip);
    render(
      <TicketPulseProvider manager={manager}>
        <TicketSelection eventId={event.id} />
        <TicketCard eventId={event.id} ticketId={general} />
        <TicketCard eventId={event.id} ticketId={vip} />
      </TicketPulseProvider>,
    );
    await screen.findByText('10 available');
    await screen.findByText('2 available');

    await live.hold(event.id, general, 4); // 6 left: below the default threshold of 10
    await screen.findByText('6 available');
    await live.hold(event.id, vip, 2);
    await screen.findByText('Sold Out');
    await waitFor(() =>
      expect(toasts).toEqual([
        { kind: 'warning', message: 'General - only 6 left!' },
        { kind: 'error', message: 'VIP is now sold out' },
      ]),
    );
  });
});
