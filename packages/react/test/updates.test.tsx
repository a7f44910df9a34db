import './support/dom.ts';
import { render, screen, waitFor } from '@testing-library/react';
import type { AnalyticsEvent, TicketAvailabilityManager } from '@ticketpulse/client';
import type { ReactNode } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { createEvent, typeId } from '../../server/test/support/fixtures.ts';
import { TicketAvailabilityBadge, TicketAvailabilityIndicator, TicketPulseProvider, useSingleTicketAvailability, useTicketAvailability } from '../src/index.ts';
import { framesOf, withLiveServer } from './support/live-server.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The server's publisher tick: at most one update per event per tick reaches a client. */
const TICK_MS = 10;

const renderWith = (manager: TicketAvailabilityManager, ui: ReactNode) => render(<TicketPulseProvider manager={manager}>{ui}</TicketPulseProvider>);

describe('updates and transitions against a real server', () => {
  const live = withLiveServer({ realtime: { tickMs: TICK_MS } });
  const catalog = () => live.server.service.catalog;

  it('new callback identities neither re-subscribe nor leave a stale callback to be called', async () => {
    const event = await createEvent(catalog(), { ticketTypes: [{ name: 'Box', totalCapacity: 1, maxPerOrder: 1 }] });
    const { manager, sent } = live.manager({ debounceMs: 10 });
    const onTransition = vi.spyOn(manager, 'onTransition');
    const subscribeToEvent = vi.spyOn(manager, 'subscribeToEvent');
    const calls: string[] = [];
    function Watch({ label }: { label: string }) {
      // A new closure on every render, as inline callbacks are.
      const { isConnected } = useTicketAvailability(event.id, { onSoldOut: (name) => calls.push(`${label}: ${name}`) });
      return <p>{isConnected ? `live ${label}` : 'waiting'}</p>;
    }
    const page = (label: string) => (
      <TicketPulseProvider manager={manager}>
        <Watch label={label} />
      </TicketPulseProvider>
    );
    const view = render(page('first'));
    await screen.findByText('live first');
    view.rerender(page('second'));
    view.rerender(page('third'));
    await screen.findByText('live third');

    await live.hold(event.id, typeId(event, 'Box'));
    await waitFor(() => expect(calls).toEqual(['third: Box']));
    expect(onTransition).toHaveBeenCalledTimes(1);
    expect(subscribeToEvent).toHaveBeenCalledTimes(1);
    expect(framesOf(sent, 'subscribe')).toBe(1);
  });

  it('fires low stock, sold out and back in stock exactly once each, with the counts', async () => {
    const event = await createEvent(catalog(), { ticketTypes: [{ name: 'Seat', totalCapacity: 5, maxPerOrder: 5 }] });
    const seat = typeId(event, 'Seat');
    const { manager } = live.manager({ debounceMs: 10 });
    const heard: string[] = [];
    function Watch() {
      const { getActualAvailable } = useTicketAvailability(event.id, {
        lowStockThreshold: 3,
        onLowStock: (name, count) => heard.push(`low ${name} ${count}`),
        onSoldOut: (name) => heard.push(`sold out ${name}`),
        onBackInStock: (name, count) => heard.push(`back ${name} ${count}`),
      });
      return <p>{`${getActualAvailable(seat)} left`}</p>;
    }
    renderWith(manager, <Watch />);
    await screen.findByText('5 left');
    await live.hold(event.id, seat, 3);
    await screen.findByText('2 left');
    const { reservation } = await live.hold(event.id, seat, 2);
    await screen.findByText('0 left');
    await live.server.service.holds.release(reservation.id, undefined);
    await screen.findByText('2 left');
    await sleep(300); // anything fired twice would have arrived by now
    expect(heard).toEqual(['low Seat 2', 'sold out Seat', 'back Seat 2']);
  });

  it('reports a transition to analytics once, however many cards and indicators show the ticket type', async () => {
    const event = await createEvent(catalog(), { ticketTypes: [{ name: 'Box', totalCapacity: 2, maxPerOrder: 2 }] });
    const box = typeId(event, 'Box');
    const reported: AnalyticsEvent[] = [];
    const { manager } = live.manager({ debounceMs: 10, onEvent: (e) => reported.push(e) });
    const toasts: string[] = [];
    function Selection() {
      useTicketAvailability(event.id, { onSoldOut: (name) => toasts.push(`${name} is now sold out`) });
      return null;
    }
    function Card() {
      const { isSoldOut, available } = useSingleTicketAvailability(event.id, box);
      return <p>{isSoldOut ? 'Card: Sold Out' : `Card: ${available} available`}</p>;
    }
    // The design's page: one selection with the callbacks, a card and badges per type.
    renderWith(
      manager,
      <>
        <Selection />
        <Card />
        <TicketAvailabilityIndicator eventId={event.id} ticketTypeId={box} />
        <TicketAvailabilityBadge eventId={event.id} ticketTypeId={box} />
      </>,
    );
    await screen.findByText('Card: 2 available');
    await live.hold(event.id, box, 2);
    await screen.findByText('Card: Sold Out');
    await waitFor(() => expect(toasts).toEqual(['Box is now sold out']));
    expect(reported.filter((e) => e.type === 'transition_shown')).toEqual([{ type: 'transition_shown', eventId: event.id, ticketTypeId: box, transition: 'soldOut' }]);
  });

  it('200 rapid updates cost renders bounded by the debounce window, not by the updates', async () => {
    const event = await createEvent(catalog(), { ticketTypes: [{ name: 'Floor', totalCapacity: 1000, maxPerOrder: 10 }] });
    const floor = typeId(event, 'Floor');
    const debounceMs = 100;
    const { manager } = live.manager({ debounceMs });
    let renders = 0;
    function Count() {
      const { getActualAvailable } = useTicketAvailability(event.id);
      renders += 1;
      return <p>{`${getActualAvailable(floor)} left`}</p>;
    }
    renderWith(manager, <Count />);
    await screen.findByText('1000 left');
    renders = 0;
    const updatesBefore = manager.getStats().updatesApplied;
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      await live.hold(event.id, floor);
      await sleep(TICK_MS + 2); // each hold its own tick, so each is its own update on the wire
    }
    await screen.findByText('800 left');
    const windows = Math.ceil((Date.now() - started) / debounceMs);
    const updates = manager.getStats().updatesApplied - updatesBefore;
    expect(updates).toBeGreaterThan(150);
    expect(renders).toBeLessThanOrEqual(windows + 1);
    expect(renders).toBeLessThan(updates / 3);
  });
});
