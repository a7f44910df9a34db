import './support/dom.ts';
import { randomUUID } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { cleanup, render, screen } from '@testing-library/react';
import { TicketAvailabilityManager } from '@ticketpulse/client';
import { SupabaseTransport } from '@ticketpulse/client/supabase';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, drivers, type TestDatabase } from '../../server/test/support/database.ts';
import { createEvent, typeId } from '../../server/test/support/fixtures.ts';
import { startTestServer, type TestServer } from '../../server/test/support/server.ts';
import { supabaseClient } from '../../server/test/support/supabase-client.ts';
import { ConnectionStatus, TicketAvailabilityIndicator, TicketPulseProvider, useTicketAvailability } from '../src/index.ts';

/**
 * The hooks and components, unchanged, on what a Supabase project looks like
 * to supabase-js: a TicketPulse server's /realtime/v1/websocket and its
 * PostgREST subset, on a real database.
 */
describe.each(drivers)('the React package on a Supabase project (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  const managers: TicketAvailabilityManager[] = [];
  const clients: SupabaseClient[] = [];

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db);
  });
  afterEach(async () => {
    cleanup();
    for (const manager of managers.splice(0)) manager.cleanup();
    await Promise.all(clients.splice(0).map((client) => client.removeAllChannels()));
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it('useTicketAvailability and the components follow a hold made over HTTP within a second', async () => {
    const event = await createEvent(server.service.catalog);
    const general = typeId(event, 'General');
    // One auth storage key per client: this page (happy-dom) is a browser context to supabase-js.
    const supabase = supabaseClient(server.url, await server.token('anon'), { auth: { storageKey: `supabase-${driver}` } });
    clients.push(supabase);
    const manager = new TicketAvailabilityManager({ transport: new SupabaseTransport(supabase) });
    managers.push(manager);

    const lowStock: string[] = [];
    // The design's TicketSelection, as written against the hook.
    function TicketSelection({ eventId }: { eventId: string }) {
      const { isConnected, isTicketAvailable, getActualAvailable } = useTicketAvailability(eventId, {
        lowStockThreshold: 7,
        onLowStock: (name, count) => lowStock.push(`${name} - only ${count} left!`),
      });
      return <p>{isConnected ? `General: ${getActualAvailable(general)} left, ${isTicketAvailable(general) ? 'on sale' : 'not on sale'}` : 'connecting'}</p>;
    }
    render(
      <TicketPulseProvider manager={manager}>
        <ConnectionStatus eventId={event.id} />
        <TicketSelection eventId={event.id} />
        <TicketAvailabilityIndicator eventId={event.id} ticketTypeId={general} />
      </TicketPulseProvider>,
    );
    await screen.findByText('General: 10 left, on sale');
    expect(screen.getByRole('status').dataset.state).toBe('connected');
    expect(screen.getByText('10 available')).toBeTruthy();

    const buyer = await server.token('authenticated', randomUUID());
    const held = await server.request('POST', `/api/events/${event.id}/reservations`, { token: buyer, body: { items: [{ ticketTypeId: general, quantity: 4 }] } });
    expect(held.status).toBe(201);
    const heldAt = Date.now();
    await screen.findByText('General: 6 left, on sale', undefined, { timeout: 1000 });
    expect(Date.now() - heldAt).toBeLessThan(1000);
    expect(screen.getByText('6 available')).toBeTruthy();
    expect(lowStock).toEqual(['General - only 6 left!']);
  });
});
