import './support/dom.ts';
import { render, screen, waitFor } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { createEvent, typeId } from '../../server/test/support/fixtures.ts';
import { TicketPulseProvider, useTicketAvailability } from '../src/index.ts';
import { framesOf, withLiveServer } from './support/live-server.ts';


/** Shows one event's state as text: its error code if any, else its status. */
function Watch({ eventId, onSoldOut }: { eventId: string; onSoldOut?: (name: string) => void }) {
  const { connectionStatus, error } = useTicketAvailability(eventId, { onSoldOut });
  return <li data-testid={eventId}>{error?.code ?? connectionStatus}</li>;
}

describe('mounting and unmounting against a real server', () => {
  const live = withLiveServer();
  const catalog = () => live.server.service.catalog;

  it('StrictMode: the double mount subscribes once and fires a transition once; unmounting leaves no listener', async () => {
    const event = await createEvent(catalog(), { ticketTypes: [{ name: 'Box', totalCapacity: 1, maxPerOrder: 1 }, { name: 'Seat', totalCapacity: 2, maxPerOrder: 2 }] });
    const { manager, sent } = live.manager({ maxChannels: 1, debounceMs: 10 });
    const soldOut: string[] = [];
    const view = render(
      <StrictMode>
        <TicketPulseProvider manager={manager}>
          <Watch eventId={event.id} onSoldOut={(name) => soldOut.push(name)} />
        </TicketPulseProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(screen.getByTestId(event.id).textContent).toBe('connected'));
    expect(framesOf(sent, 'subscribe')).toBe(1);
    expect(live.server.service.gateway.stats.connections).toBe(1);

    await live.hold(event.id, typeId(event, 'Box'));
    await waitFor(() => expect(soldOut).toEqual(['Box']));

    // Someone else keeps watching the event, so it stays open after the unmount.
    const states: number[] = [];
    const stopOther = manager.subscribeToEvent(event.id, (state) => states.push(state.version));
    view.unmount();
    await live.hold(event.id, typeId(event, 'Seat'), 2);
    await waitFor(() => expect(manager.getTicketAvailability(event.id, typeId(event, 'Seat'))?.isSoldOut).toBe(true));
    expect(soldOut).toEqual(['Box']); // the unmounted component's transition listener is gone
    stopOther();

    // The only slot goes to another event only if nobody listens to the first any more.
    const other = await createEvent(catalog());
    const stop = manager.subscribeToEvent(other.id, () => {});
    await waitFor(() => expect(manager.getConnectionStatus(other.id)).toBe('connected'));
    expect(sent).toContainEqual(expect.objectContaining({ type: 'unsubscribe', eventId: event.id }));
    stop();
  });

  it('unmounting before the socket connects leaks nothing', async () => {
    const event = await createEvent(catalog());
    const { manager, sent } = live.manager({ lingerMs: 50 });
    const view = render(
      <TicketPulseProvider manager={manager}>
        <Watch eventId={event.id} />
      </TicketPulseProvider>,
    );
    expect(manager.getConnectionStatus()).toBe('connecting');
    view.unmount();
    // The event lingers briefly for a quick return, then the manager lets go of it and of the socket.
    await waitFor(() => expect(manager.getConnectionStatus()).toBe('disconnected'));
    await waitFor(() => expect(live.server.service.gateway.stats.connections).toBe(0));
    expect(framesOf(sent, 'subscribe')).toBe(framesOf(sent, 'unsubscribe'));
  });

  it('past maxChannels the next event is refused while the others have listeners, and admitted once one unmounts', async () => {
    const [first, second, third] = await Promise.all([1, 2, 3].map(() => createEvent(catalog())));
    const { manager } = live.manager({ maxChannels: 2, debounceMs: 10 });
    const page = (eventIds: string[]): ReactNode => (
      <TicketPulseProvider manager={manager}>
        <ul>
          {eventIds.map((id) => (
            <Watch key={id} eventId={id} />
          ))}
        </ul>
      </TicketPulseProvider>
    );
    const text = (eventId: string) => screen.getByTestId(eventId).textContent;
    const view = render(page([first!.id, second!.id, third!.id]));
    await waitFor(() => {
      expect(text(first!.id)).toBe('connected');
      expect(text(second!.id)).toBe('connected');
      expect(text(third!.id)).toBe('too_many_channels');
    });
    view.rerender(page([second!.id, third!.id]));
    await waitFor(() => expect(text(third!.id)).toBe('connected'));
    expect(text(second!.id)).toBe('connected');
  }, 30_000);
});
