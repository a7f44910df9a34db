import { isBuyable, type ConnectionStatus, type EventState, type TicketAvailability, type Transition } from '@ticketpulse/client';
import { useCallback, useEffect, useInsertionEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import { useTicketAvailabilityManager } from './provider.tsx';

export interface UseTicketAvailabilityOptions {
  /** When false nothing is watched and the state stays empty. Default true. */
  enabled?: boolean;
  /** A type dropped below `lowStockThreshold`; `count` is null when the event shows bands only. */
  onLowStock?: (name: string, count: number | null) => void;
  onSoldOut?: (name: string) => void;
  /** A sold-out type has seats again; `count` is null when unlimited or banded. */
  onBackInStock?: (name: string, count: number | null) => void;
  /** Below this many seats `onLowStock` fires. Default: the manager's (10). */
  lowStockThreshold?: number;
}

export interface TicketAvailabilityResult {
  availability: EventState['availability'];
  isConnected: boolean;
  connectionStatus: ConnectionStatus;
  getTicketAvailability: (ticketTypeId: string) => TicketAvailability | undefined;
  /** On sale with seats left. */
  isTicketAvailable: (ticketTypeId: string) => boolean;
  /** Seats left: Infinity when unlimited, null when unknown or the event shows bands only. */
  getActualAvailable: (ticketTypeId: string) => number | null;
  lastUpdated: number | null;
  /** Cached data the server has not confirmed yet. */
  isStale: boolean;
  error: EventState['error'];
}

type TransitionCallbacks = Pick<UseTicketAvailabilityOptions, 'onLowStock' | 'onSoldOut' | 'onBackInStock'>;

/** The state before anything is known (on the server, and while disabled); memoized, as useSyncExternalStore wants the same object each time. */
function emptyState(eventId: string, status: ConnectionStatus): EventState {
  return { eventId, availability: new Map(), version: 0, status, isStale: false, lastUpdated: null, error: null };
}

const noSubscription = () => () => {};

function notify(callbacks: TransitionCallbacks, { kind, ticket }: Transition): void {
  const name = ticket.ticketTypeName;
  if (kind === 'soldOut') callbacks.onSoldOut?.(name);
  else if (kind === 'lowStock') callbacks.onLowStock?.(name, ticket.actualAvailable);
  else callbacks.onBackInStock?.(name, ticket.actualAvailable);
}

/** Live availability of one event (id or slug), with low stock, sold out and back in stock callbacks. */
export function useTicketAvailability(eventId: string, options: UseTicketAvailabilityOptions = {}): TicketAvailabilityResult {
  const { enabled = true, lowStockThreshold, onLowStock, onSoldOut, onBackInStock } = options;
  const manager = useTicketAvailabilityManager();

  // The newest callbacks, read when a transition fires: new identities on every render cost no re-subscription.
  const callbacks = useRef<TransitionCallbacks>({ onLowStock, onSoldOut, onBackInStock });
  // The earliest client-only effect: current before anything can fire, and silent during server rendering.
  useInsertionEffect(() => {
    callbacks.current = { onLowStock, onSoldOut, onBackInStock };
  });

  // On the server the client will connect on hydration; while disabled it will not.
  const idle = useMemo(() => emptyState(eventId, enabled ? 'connecting' : 'disconnected'), [eventId, enabled]);
  const subscribe = useCallback((onChange: () => void) => manager.subscribeToEvent(eventId, onChange), [manager, eventId]);
  const state = useSyncExternalStore(
    enabled ? subscribe : noSubscription,
    () => (enabled ? manager.getEventState(eventId) : idle),
    () => idle,
  );

  // Only a hook with callbacks listens: cards and badges on the same page would each count as a transition shown.
  const listens = Boolean(onLowStock ?? onSoldOut ?? onBackInStock);
  useEffect(() => {
    if (!enabled || !listens) return;
    const stop = manager.onTransition((transition) => notify(callbacks.current, transition), { eventId, lowStockThreshold });
    // Wrapped: the remover returns a boolean, which React does not accept from a cleanup.
    return () => {
      stop();
    };
  }, [manager, eventId, enabled, listens, lowStockThreshold]);

  return useMemo(() => {
    const { availability } = state;
    const ticket = (id: string) => availability.get(id);
    return {
      availability,
      isConnected: state.status === 'connected',
      connectionStatus: state.status,
      getTicketAvailability: ticket,
      isTicketAvailable: (id) => isBuyable(ticket(id)?.status),
      getActualAvailable: (id) => {
        const t = ticket(id);
        if (!t) return null;
        return t.isUnlimited ? Infinity : t.actualAvailable;
      },
      lastUpdated: state.lastUpdated,
      isStale: state.isStale,
      error: state.error,
    };
  }, [state]);
}
