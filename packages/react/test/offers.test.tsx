import './support/dom.ts';
import { render, screen } from '@testing-library/react';
import { ReservationExpiryManager } from '@ticketpulse/client';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitingBuyer } from '../../server/test/support/waiting-buyer.ts';
import { TicketPulseProvider, useMyOffers } from '../src/index.ts';
import { withLiveServer } from './support/live-server.ts';

describe('useMyOffers against a real server', () => {
  const live = withLiveServer();
  const stops: Array<() => void> = [];
  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
  });

  function Offers() {
    const offers = useMyOffers();
    if (offers.length === 0) return <p>no offers</p>;
    return (
      <ul>
        {offers.map((offer) => (
          <li key={offer.reservationId}>{`${offer.quantity} × ${offer.ticketTypeName} until ${offer.expiresAt}`}</li>
        ))}
      </ul>
    );
  }

  it('shows an offer the moment it is made, and drops it once taken', async () => {
    const { server } = live;
    const { userId, token, makeOffer } = await waitingBuyer(server, 2);
    const clients = live.manager({}, userId);
    const reservations = new ReservationExpiryManager({ url: server.url, getToken: () => token, WebSocket, clock: clients.manager.clock });
    stops.push(() => reservations.stopAll());
    render(
      <TicketPulseProvider manager={clients.manager} reservations={reservations}>
        <Offers />
      </TicketPulseProvider>,
    );
    await screen.findByText('no offers');

    await makeOffer();
    const entry = async () => (await server.request('GET', '/api/waitlist/me', { token })).body.entries[0];
    const shown = await screen.findByText(/^2 × VIP until /, {}, { timeout: 3000 });
    const { offer } = await entry();
    expect(shown.textContent).toBe(`2 × VIP until ${offer.expiresAt}`);

    await server.request('POST', `/api/reservations/${offer.reservationId}/confirm`, { token });
    await screen.findByText('no offers', {}, { timeout: 3000 });
  });
});
