import './support/dom.ts';
import { act, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { createEvent, typeId } from '../../server/test/support/fixtures.ts';
import { TicketPulseProvider, useHoldClient, useQueue, type QueueResult } from '../src/index.ts';
import { withLiveServer } from './support/live-server.ts';

describe('useQueue against a real server', () => {
  const live = withLiveServer({ admission: { tickMs: 50, leaseMs: 500 } });

  const queuedEvent = async (settings: Record<string, unknown>) => {
    const event = await createEvent(live.server.service.catalog);
    const organizer = await live.server.token('organizer');
    const put = await live.server.request('PUT', `/api/events/${event.id}/queue`, { token: organizer, body: { admitPerMinute: 600, ...settings } });
    expect(put.status).toBe(200);
    return event;
  };

  it('joins in the pre-queue, counts down to opening, and is admitted and may hold', async () => {
    const event = await queuedEvent({ opensAt: new Date(Date.now() + 5000).toISOString(), passSeconds: 60 });
    const clients = live.manager();
    const latest = {} as { current: QueueResult };
    function Room() {
      const queue = useQueue(event.slug);
      latest.current = queue;
      const holds = useHoldClient();
      if (queue.status === 'not_joined') return <button onClick={() => void queue.join()}>Join</button>;
      if (queue.isYourTurn) {
        return (
          <button onClick={() => void holds.createHold(event.slug, [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }]).then((r) => (document.title = r.status))}>
            Your turn
          </button>
        );
      }
      return <p>{`${queue.status} opens in ${queue.secondsUntilOpen}s, position ${queue.position ?? '-'}`}</p>;
    }
    render(
      <TicketPulseProvider manager={clients.manager} holds={clients.holds}>
        <Room />
      </TicketPulseProvider>,
    );
    (await screen.findByRole('button', { name: 'Join' })).click();
    await screen.findByText(/^prequeue opens in \d+s, position -$/);
    const button = await screen.findByRole('button', { name: 'Your turn' }, { timeout: 10_000 });
    expect(latest.current).toMatchObject({ status: 'admitted', position: 1, peopleAhead: 0, pending: false, error: null });
    // Admitted, the visitor may hold (the SDK test checks the pass header itself).
    button.click();
    await waitFor(() => expect(document.title).toBe('active'));
  });

  it('shows a failed join as its error, and nothing is pending after it', async () => {
    const event = await queuedEvent({ opensAt: new Date(Date.now() + 3_600_000).toISOString(), prequeueMinutes: 5 });
    const clients = live.manager();
    const latest = {} as { current: QueueResult };
    function Room() {
      latest.current = useQueue(event.id);
      return <p>{latest.current.status}</p>;
    }
    render(
      <TicketPulseProvider manager={clients.manager}>
        <Room />
      </TicketPulseProvider>,
    );
    await screen.findByText('not_joined');
    await act(async () => {
      expect(await latest.current.join()).toBeUndefined();
    });
    expect(latest.current.error).toMatchObject({ code: 'queue_not_open_yet', status: 409 });
    expect(latest.current).toMatchObject({ pending: false, status: 'not_joined', entry: null });
  });
});
