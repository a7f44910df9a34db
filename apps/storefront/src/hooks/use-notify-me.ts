import { useTicketAvailabilityManager } from '@ticketpulse/react';
import { useCallback, useEffect, useRef, useState } from 'react';

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

/**
 * "Notify me" on sold-out ticket types: when one comes back (a backInStock
 * transition), the page says so, and so does a system notification if the
 * buyer allowed them.
 */
export function useNotifyMe(eventId: string): NotifyMe {
  const manager = useTicketAvailabilityManager();
  const [watching, setWatching] = useState<ReadonlySet<string>>(new Set());
  const [messages, setMessages] = useState<ReadonlyMap<string, string>>(new Map());
  const watched = useRef(watching);
  watched.current = watching;

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
        if (notificationsGranted()) new Notification('Tickets are back', { body: message, tag: `ticketpulse-${ticket.ticketTypeId}` });
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
    if (starting && typeof Notification !== 'undefined' && Notification.permission === 'default') {
      void Notification.requestPermission().catch(() => undefined);
    }
  }, []);

  return {
    isWatching: (id) => watching.has(id),
    toggle,
    messageOf: (id) => messages.get(id),
  };
}
