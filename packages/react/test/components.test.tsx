import './support/dom.ts';
import { render, screen, waitFor, within } from '@testing-library/react';
import { memoryCache, type TicketAvailability } from '@ticketpulse/client';
import { describe, expect, it, vi } from 'vitest';
import { createEvent, typeId } from '../../server/test/support/fixtures.ts';
import {
  ConnectionStatus,
  RealtimeErrorBoundary,
  TicketAvailabilityBadge,
  TicketAvailabilityIndicator,
  TicketPulseProvider,
  useReservation,
} from '../src/index.ts';
import { withLiveServer } from './support/live-server.ts';

/** Nothing listens on port 9 (discard): connecting fails at once. */
const UNREACHABLE = 'http://127.0.0.1:9';

describe('components against a real server', () => {
  const live = withLiveServer();
  const catalog = () => live.server.service.catalog;

  it('the indicator and the badge say what a buyer can get, in every state', async () => {
    const event = await createEvent(catalog(), {
      ticketTypes: [
        { name: 'Plenty', totalCapacity: 100 },
        { name: 'Few', totalCapacity: 10, lowStockThreshold: 3, maxPerOrder: 10 },
        { name: 'Gone', totalCapacity: 1 },
        { name: 'Open', totalCapacity: null },
        { name: 'Paused', totalCapacity: 10, status: 'paused' },
      ],
    });
    const ended = await createEvent(catalog(), { status: 'ended', ticketTypes: [{ name: 'Past', totalCapacity: 10 }] });
    const banded = await createEvent(catalog(), { ticketTypes: [{ name: 'Few', totalCapacity: 10, lowStockThreshold: 3, maxPerOrder: 10 }, { name: 'Plenty', totalCapacity: 100 }] });
    await catalog().updateEvent(banded.id, { displayPrecision: 'bands' });
    await live.hold(event.id, typeId(event, 'Few'), 7);
    await live.hold(event.id, typeId(event, 'Gone'), 1);
    await live.hold(banded.id, typeId(banded, 'Few'), 7);

    const rows: Array<[string, string, string]> = [
      ...['Plenty', 'Few', 'Gone', 'Open', 'Paused'].map((name): [string, string, string] => [name, event.id, typeId(event, name)]),
      ['Past', ended.id, typeId(ended, 'Past')],
      ['Banded few', banded.id, typeId(banded, 'Few')],
      ['Banded plenty', banded.id, typeId(banded, 'Plenty')],
    ];
    const { manager } = live.manager();
    render(
      <TicketPulseProvider manager={manager}>
        <table>
          <tbody>
            {rows.map(([label, eventId, ticketTypeId]) => (
              <tr key={label} data-testid={label}>
                <td>
                  <TicketAvailabilityIndicator eventId={eventId} ticketTypeId={ticketTypeId} />
                </td>
                <td>
                  <TicketAvailabilityBadge eventId={eventId} ticketTypeId={ticketTypeId} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TicketPulseProvider>,
    );
    const shown = (label: string) => {
      const [indicator, badge] = within(screen.getByTestId(label)).getAllByRole('cell');
      // The indicator's first words name the ticket type for screen readers only.
      return [indicator!.textContent!.replace(/^[^:]+: /, ''), badge!.textContent];
    };
    await waitFor(() => {
      expect(shown('Plenty')).toEqual(['100 available', '100 left']);
      expect(shown('Few')).toEqual(['Only 3 left', '3 left']);
      expect(shown('Gone')).toEqual(['Sold out', 'Sold out']);
      expect(shown('Open')).toEqual(['Unlimited availability', 'Unlimited']);
      expect(shown('Paused')).toEqual(['Sales paused', 'Paused']);
      expect(shown('Past')).toEqual(['Not on sale', 'Off sale']);
      expect(shown('Banded few')).toEqual(['Only a few left', 'Few left']);
      expect(shown('Banded plenty')).toEqual(['Available', 'Available']);
    });
  });

  /** An indicator watching a 10-seat type that runs low at 3, then 7 of its seats held. */
  async function indicatorThroughAHold(props: { announce?: boolean }) {
    const event = await createEvent(catalog(), { ticketTypes: [{ name: 'Few', totalCapacity: 10, lowStockThreshold: 3, maxPerOrder: 10 }] });
    const few = typeId(event, 'Few');
    const { manager } = live.manager();
    const { container } = render(
      <TicketPulseProvider manager={manager}>
        <TicketAvailabilityIndicator eventId={event.id} ticketTypeId={few} {...props} />
      </TicketPulseProvider>,
    );
    const indicator = container.querySelector('.tp-indicator')!;
    await waitFor(() => expect(indicator.textContent).toBe('Few: 10 available'));
    expect(indicator.classList.contains('tp-flash')).toBe(false);
    await live.hold(event.id, few, 7);
    await waitFor(() => expect(indicator.textContent).toBe('Few: Only 3 left'));
    expect(indicator.classList.contains('tp-flash')).toBe(true);
    expect(indicator.getAttribute('data-status')).toBe('low_stock');
    return { container, indicator };
  }

  it('the indicator announces a change in its polite live region and flashes', async () => {
    const { indicator } = await indicatorThroughAHold({});
    expect(indicator.getAttribute('aria-live')).toBe('polite');
  });

  it('the indicator with announce={false} still shows and flashes each change, in no live region', async () => {
    const { container } = await indicatorThroughAHold({ announce: false });
    expect(container.querySelector('[aria-live="polite"]')).toBeNull();
  });

  it('shows a ticket given as data without watching anything', async () => {
    const event = await createEvent(catalog());
    const response = await live.server.request<{ tickets: TicketAvailability[] }>('GET', `/api/events/${event.id}/availability`);
    const vip = response.body.tickets.find((t) => t.ticketTypeName === 'VIP')!;
    const { manager, sent } = live.manager();
    render(
      <TicketPulseProvider manager={manager}>
        <TicketAvailabilityIndicator ticket={vip} />
        <TicketAvailabilityBadge ticket={vip} />
      </TicketPulseProvider>,
    );
    expect(screen.getByText('2 available')).toBeTruthy();
    expect(screen.getByText('2 left')).toBeTruthy();
    expect(manager.getConnectionStatus()).toBe('disconnected');
    expect(sent).toEqual([]);
  });

  it('ConnectionStatus: offline with nothing watched, live once something is, and an event’s error in words', async () => {
    const event = await createEvent(catalog());
    const { manager } = live.manager();
    const page = (watch: boolean) => (
      <TicketPulseProvider manager={manager}>
        <ConnectionStatus />
        {watch && <TicketAvailabilityIndicator eventId={event.id} ticketTypeId={typeId(event, 'General')} />}
        {watch && <ConnectionStatus eventId="no-such-event" />}
      </TicketPulseProvider>
    );
    const view = render(page(false));
    expect(screen.getByRole('status').textContent).toBe('Offline');
    view.rerender(page(true));
    await waitFor(() => {
      const [overall, missing] = screen.getAllByRole('status');
      expect(overall!.textContent).toBe('Live');
      expect(overall!.getAttribute('data-state')).toBe('connected');
      expect(missing!.textContent).toBe('Live updates unavailable: Event not found');
    });
  });

  it('ConnectionStatus: cached data while the server cannot be reached, with its age', async () => {
    const event = await createEvent(catalog());
    const general = typeId(event, 'General');
    const storage = memoryCache();
    const online = live.manager({ storage }).manager;
    online.subscribeToEvent(event.id, () => {});
    await waitFor(() => expect(storage.size).toBe(1));
    online.cleanup();

    const { manager } = live.manager({ storage, url: UNREACHABLE, reconnect: { baseMs: 50, capMs: 100, pollAfterFailures: 100 } });
    render(
      <TicketPulseProvider manager={manager}>
        <ConnectionStatus eventId={event.id} />
        <ConnectionStatus />
        <TicketAvailabilityIndicator eventId={event.id} ticketTypeId={general} />
      </TicketPulseProvider>,
    );
    await waitFor(() => {
      const [cached, overall] = screen.getAllByRole('status');
      expect(cached!.textContent).toBe('Offline — showing cached data (updated just now)');
      expect(cached!.getAttribute('data-state')).toBe('stale');
      expect(overall!.textContent).toBe('Reconnecting…');
    });
    expect(screen.getByText('10 available')).toBeTruthy();
  });

  it('ConnectionStatus: polling when the WebSocket keeps failing', async () => {
    const event = await createEvent(catalog());
    const { manager } = live.manager({ url: UNREACHABLE, reconnect: { baseMs: 20, capMs: 50, pollAfterFailures: 1 }, pollIntervalMs: 100 });
    render(
      <TicketPulseProvider manager={manager}>
        <ConnectionStatus eventId={event.id} />
      </TicketPulseProvider>,
    );
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('Live updates paused — checking every few seconds'));
  });

  it('RealtimeErrorBoundary shows its fallback when a child throws', async () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    const caught: string[] = [];
    function Countdown() {
      useReservation('any'); // no ReservationExpiryManager in this provider: throws
      return <p>counting</p>;
    }
    try {
      render(
        <TicketPulseProvider manager={live.manager().manager}>
          <RealtimeErrorBoundary fallback={<p>Prices as of this morning</p>} onError={(error) => caught.push(error.message)}>
            <Countdown />
          </RealtimeErrorBoundary>
        </TicketPulseProvider>,
      );
      expect(screen.getByText('Prices as of this morning')).toBeTruthy();
      expect(caught).toEqual([expect.stringContaining('useReservation needs a ReservationExpiryManager')]);
    } finally {
      quiet.mockRestore();
    }
  });
});
