import { useTicketAvailabilityManager } from '@ticketpulse/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api.ts';
import { enablePush } from '../push-subscription.ts';

export interface NotifyMe {
  isWatching: (ticketTypeId: string) => boolean;
  /** Starts (asking for notification permission the first time) or stops watching a sold-out type. */
  toggle: (ticketTypeId: string) => void;
  /** The in-page message once a watched type is back. */
  messageOf: (ticketTypeId: string) => string | undefined;
}

function notificationsGranted(): boolean {
  return typeof Notification !== 'undefined' && Notification.permission === 'granted';
}

/** Asks the service to push "back on sale" for this type (POST /api/event-tickets/:id/notify); false if it could not. */
async function watchOnServer(ticketTypeId: string): Promise<boolean> {
  if ((await enablePush()) !== 'subscribed') return false;
  return api(`/api/event-tickets/${ticketTypeId}/notify`, { method: 'POST', auth: 'buyer' }).then(
    () => true,
    () => false,
  );
}

/**
 * "Notify me" on sold-out ticket types: when one comes back (a backInStock
 * transition), the page says so. With Web Push granted, the service watches
 * it too and pushes to this browser even when the page is closed
 * (docs/storefront.md, "Web Push"); without, the page shows a system
 * notification itself while it is open.
 */
export function useNotifyMe(eventId: string): NotifyMe {
  const manager = useTicketAvailabilityManager();
  const [watching, setWatching] = useState<ReadonlySet<string>>(new Set());
  const [messages, setMessages] = useState<ReadonlyMap<string, string>>(new Map());
  const watched = useRef(watching);
  watched.current = watching;
  // Types the service watches for this buyer: their notification comes as a push, not from the page.
  const pushed = useRef(new Set<string>());

  useEffect(() => {
    const stop = manager.onTransition(
      ({ kind, ticket }) => {
        if (kind !== 'backInStock' || !watched.current.has(ticket.ticketTypeId)) return;
        const count = ticket.isUnlimited || ticket.actualAvailable === null ? '' : ` (${ticket.actualAvailable} available)`;
        const message = `Good news: ${ticket.ticketTypeName} is available again${count}.`;
        setMessages((current) => new Map(current).set(ticket.ticketTypeId, message));
        setWatching((current) => {
          const next = new Set(current);
          next.delete(ticket.ticketTypeId);
          return next;
        });
        if (notificationsGranted() && !pushed.current.delete(ticket.ticketTypeId)) new Notification('Tickets are back', { body: message, tag: `ticketpulse-${ticket.ticketTypeId}` });
      },
      { eventId },
    );
    return () => {
      stop();
    };
  }, [manager, eventId]);

  const toggle = useCallback((id: string) => {
    const starting = !watched.current.has(id);
    setWatching((current) => {
      const next = new Set(current);
      if (starting) next.add(id);
      else next.delete(id);
      return next;
    });
    if (starting) {
      void watchOnServer(id).then((onServer) => {
        if (onServer && watched.current.has(id)) pushed.current.add(id);
      });
    } else if (pushed.current.delete(id)) {
      void api(`/api/event-tickets/${id}/notify`, { method: 'DELETE', auth: 'buyer' }).catch(() => undefined);
    }
  }, []);

  return {
    isWatching: (id) => watching.has(id),
    toggle,
    messageOf: (id) => messages.get(id),
  };
}
