import './support/dom.ts';
import { randomUUID } from 'node:crypto';
import { act, render, screen, waitFor } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { createEvent, typeId } from '../../server/test/support/fixtures.ts';
import { TicketPulseProvider, useHoldClient, useReservation, type ReservationResult } from '../src/index.ts';
import { withLiveServer, type LiveManager } from './support/live-server.ts';

describe('useReservation against a real server', () => {
  const live = withLiveServer();

  /** Renders the hold's countdown and hands the hook's result to the test. */
  function renderHold(clients: LiveManager, reservationId: string): { current: ReservationResult } {
    const latest = {} as { current: ReservationResult };
    function Hold() {
      latest.current = useReservation(reservationId);
      const { remainingMs, state, error } = latest.current;
      if (error) return <p>{`error ${error.message}`}</p>;
      return <p>{state ? `${state.status} ${Math.ceil(remainingMs! / 1000)}s` : 'loading'}</p>;
    }
    render(
      <TicketPulseProvider manager={clients.manager} reservations={clients.reservations}>
        <Hold />
      </TicketPulseProvider>,
    );
    return latest;
  }

  it('counts a hold down each second, extends and releases it', async () => {
    const userId = randomUUID();
    const event = await createEvent(live.server.service.catalog);
    const { reservation } = await live.server.service.holds.reserve({ eventId: event.id, holderId: userId, items: [{ ticketTypeId: typeId(event, 'General'), quantity: 2 }] });
    const clients = live.manager({}, userId);
    const hold = renderHold(clients, reservation.id);

    const first = await screen.findByText(/^active \d+s$/);
    const shown = first.textContent;
    await waitFor(() => expect(first.textContent).not.toBe(shown), { timeout: 3000 });
    expect(hold.current.isExpired).toBe(false);
    expect(hold.current.isExpiringSoon).toBe(false);

    const before = hold.current.remainingMs!;
    await act(() => hold.current.extend());
    expect(hold.current.state?.extensionsUsed).toBe(1);
    expect(hold.current.remainingMs!).toBeGreaterThan(before + 200_000);

    await act(() => hold.current.release());
    await screen.findByText('released 0s');
    expect(hold.current.isExpired).toBe(true);
  });

  it('a hold made with useHoldClient().createHold is counted down by useReservation', async () => {
    const event = await createEvent(live.server.service.catalog);
    const clients = live.manager();
    function Countdown({ reservationId }: { reservationId: string }) {
      const { state } = useReservation(reservationId);
      return <p>{state ? `${state.status}, ${state.extensionsUsed} extensions` : 'loading'}</p>;
    }
    function Shop() {
      const holds = useHoldClient();
      const [reservationId, setReservationId] = useState<string | null>(null);
      const hold = async () => setReservationId((await holds.createHold(event.id, [{ ticketTypeId: typeId(event, 'VIP'), quantity: 2 }])).id);
      return reservationId ? <Countdown reservationId={reservationId} /> : <button onClick={() => void hold()}>Hold</button>;
    }
    render(
      <TicketPulseProvider manager={clients.manager} reservations={clients.reservations} holds={clients.holds}>
        <Shop />
      </TicketPulseProvider>,
    );
    await act(async () => screen.getByText('Hold').click());
    await screen.findByText('active, 0 extensions');
  });

  it('reports a hold that cannot be loaded', async () => {
    renderHold(live.manager(), randomUUID());
    await screen.findByText('error Reservation not found');
  });
});
