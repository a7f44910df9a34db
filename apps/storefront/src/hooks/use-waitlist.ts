import { useQuery, useQueryClient } from '@tanstack/react-query';
import { runningOffers } from '@ticketpulse/client';
import { useMyOffers } from '@ticketpulse/react';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { asBuyer } from '../api.ts';
import { shownAfterClick } from '../http-request.ts';
import { enablePush } from '../push-subscription.ts';
import { queries } from '../queries.ts';
import { buyerWaitlist } from '../realtime.ts';
import type { WaitlistEntry } from '../types.ts';

/** What a ticket type's waiting-list controls show besides the entry. */
export interface WaitlistNote {
  /** The join or leave being sent. */
  pending: boolean;
  /** The last refusal, in the shop's words. */
  message?: string;
  /** The organizer switched this type's list off (waitlist_closed): nothing to join. */
  closed?: boolean;
}

export interface WaitlistState {
  /** The buyer's live entry (in line, or an offer running) on this ticket type. */
  entryOf: (ticketTypeId: string) => WaitlistEntry | undefined;
  noteOf: (ticketTypeId: string) => WaitlistNote | undefined;
  join: (ticketTypeId: string, quantity: number) => Promise<void>;
  leave: (entry: WaitlistEntry) => Promise<void>;
  /** Offers on this event shown to the buyer: running ones, and those that ended while shown, until dismissed. */
  offers: readonly WaitlistEntry[];
  dismissOffer: (entryId: string) => void;
}

/** A type whose list the organizer switched off, as the event's details say: nothing to join. */
const SWITCHED_OFF: WaitlistNote = { pending: false, closed: true };

/** The refusals a buyer can act on, in the shop's words; anything else shows the server's message. */
const REFUSAL: Record<string, string> = {
  waitlist_seats_available: 'Tickets are available again: choose them above and hold them.',
  waitlist_closed: 'This ticket type has no waiting list.',
  quantity_above_max_per_order: 'That is more than one order may have.',
};

/**
 * The buyer's waiting lists on one event (docs/storefront.md "Waiting list
 * and offers"): join a sold-out type, see the place, leave; and the offers
 * made to them, kept on screen from the moment they are seen until the
 * buyer dismisses them, so a purchase shows its confirmation even though
 * the entry is then no longer `offered`. Entries are read with the SDK's
 * waitlistClient and polled while one is live (queries.myWaitlist), and read
 * again the moment the personal feed brings an offer (useMyOffers).
 */
export function useWaitlist(slug: string, eventId: string | undefined): WaitlistState {
  const client = buyerWaitlist();
  const queryClient = useQueryClient();
  const { data: entries } = useQuery(queries.myWaitlist(client));
  // The switches as the event's details were read (a list switched off later answers waitlist_closed).
  // Only an explicit false: details kept from before the field existed say nothing.
  const { data: details } = useQuery(queries.event(slug));
  const switchedOff = useMemo(
    () => new Set((details?.ticketTypes ?? []).filter((type) => details?.waitlistEnabled === false || type.waitlistEnabled === false).map((type) => type.id)),
    [details],
  );
  const [notes, setNotes] = useState<ReadonlyMap<string, WaitlistNote>>(new Map());
  // An offer made over the personal feed is read at once, not at the next poll.
  const feedOffers = useMyOffers();
  useEffect(() => {
    if (feedOffers.length > 0) void queryClient.invalidateQueries({ queryKey: queries.myWaitlist(client).queryKey });
  }, [feedOffers, client, queryClient]);
  const [shownOffers, setShownOffers] = useState<readonly WaitlistEntry[]>([]);

  const live = useMemo(() => {
    const byType = new Map<string, WaitlistEntry>();
    for (const entry of entries ?? []) {
      if (entry.eventId === eventId && (entry.status === 'waiting' || entry.status === 'offered')) byType.set(entry.ticketTypeId, entry);
    }
    return byType;
  }, [entries, eventId]);

  // An offer seen once stays shown (its hold panel then says how it ended) until dismissed.
  useEffect(() => {
    const running = runningOffers(entries ?? []).filter((entry) => entry.eventId === eventId);
    setShownOffers((current) => {
      const added = running.filter((entry) => !current.some((shown) => shown.id === entry.id));
      return added.length === 0 ? current : [...current, ...added];
    });
  }, [entries, eventId]);

  const note = useCallback((ticketTypeId: string, value: WaitlistNote) => setNotes((current) => new Map(current).set(ticketTypeId, value)), []);

  const act = useCallback(
    async (ticketTypeId: string, work: () => Promise<unknown>) => {
      note(ticketTypeId, { pending: true });
      try {
        await asBuyer(work);
        note(ticketTypeId, { pending: false });
      } catch (failure) {
        const { code, message } = shownAfterClick(failure);
        note(ticketTypeId, { pending: false, message: REFUSAL[code] ?? message, closed: code === 'waitlist_closed' });
      } finally {
        await queryClient.invalidateQueries({ queryKey: queries.myWaitlist(client).queryKey });
      }
    },
    [client, note, queryClient],
  );

  const join = useCallback(
    (ticketTypeId: string, quantity: number) => {
      // Asked in the click that joins, so that an offer reaches the buyer with the page closed too (Web Push); refused or unsupported, the list works the same.
      void enablePush().catch(() => undefined);
      return act(ticketTypeId, () => client.join(ticketTypeId, quantity));
    },
    [act, client],
  );
  const leave = useCallback((entry: WaitlistEntry) => act(entry.ticketTypeId, () => client.leave(entry.id)), [act, client]);
  const entryOf = useCallback((ticketTypeId: string) => live.get(ticketTypeId), [live]);
  const noteOf = useCallback((ticketTypeId: string) => notes.get(ticketTypeId) ?? (switchedOff.has(ticketTypeId) ? SWITCHED_OFF : undefined), [notes, switchedOff]);
  const dismissOffer = useCallback(
    (entryId: string) => {
      setShownOffers((current) => current.filter((entry) => entry.id !== entryId));
      void queryClient.invalidateQueries({ queryKey: queries.myWaitlist(client).queryKey });
    },
    [client, queryClient],
  );

  return { entryOf, noteOf, join, leave, offers: shownOffers, dismissOffer };
}
