import type { TicketAvailability } from '@ticketpulse/client';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { quantityCap } from '../availability-rules.ts';

export interface Selection {
  quantityOf: (ticketTypeId: string) => number;
  setQuantity: (ticketTypeId: string, quantity: number) => void;
  clear: () => void;
  /** Why a type's selection was reduced by a live change, until the buyer touches it again. */
  noticeOf: (ticketTypeId: string) => string | undefined;
  items: Array<{ ticketTypeId: string; quantity: number }>;
  count: number;
}

function reductionNotice(ticket: TicketAvailability, from: number, to: number): string {
  const name = ticket.ticketTypeName;
  if (to > 0) return `Only ${to} of ${name} can be held now, so your selection went from ${from} to ${to}.`;
  if (ticket.isSoldOut) return `${name} sold out while you were choosing, so it was removed from your selection.`;
  return `${name} is no longer on sale, so it was removed from your selection.`;
}

/**
 * The buyer's quantities per ticket type. When live availability lowers a
 * cap below a selection, the selection is reduced and the reason kept for the
 * row to show. `frozen` (a hold request in flight) suspends that: the
 * buyer's own optimistic hold must not shrink their own selection.
 */
export function useSelection(availability: ReadonlyMap<string, TicketAvailability>, frozen: boolean): Selection {
  const [quantities, setQuantities] = useState<ReadonlyMap<string, number>>(new Map());
  const [notices, setNotices] = useState<ReadonlyMap<string, string>>(new Map());

  useEffect(() => {
    if (frozen || availability.size === 0) return;
    const reduced = new Map<string, { to: number; notice: string }>();
    for (const [id, quantity] of quantities) {
      const ticket = availability.get(id);
      if (!ticket) continue;
      const cap = quantityCap(ticket);
      if (quantity > cap) reduced.set(id, { to: cap, notice: reductionNotice(ticket, quantity, cap) });
    }
    if (reduced.size === 0) return;
    setQuantities((current) => {
      const next = new Map(current);
      for (const [id, { to }] of reduced) if (to > 0) next.set(id, to); else next.delete(id);
      return next;
    });
    setNotices((current) => {
      const next = new Map(current);
      for (const [id, { notice }] of reduced) next.set(id, notice);
      return next;
    });
  }, [availability, quantities, frozen]);

  const setQuantity = useCallback((id: string, quantity: number) => {
    setQuantities((current) => {
      const next = new Map(current);
      if (quantity > 0) next.set(id, quantity);
      else next.delete(id);
      return next;
    });
    setNotices((current) => {
      if (!current.has(id)) return current;
      const next = new Map(current);
      next.delete(id);
      return next;
    });
  }, []);

  const clear = useCallback(() => {
    setQuantities(new Map());
    setNotices(new Map());
  }, []);

  return useMemo(() => {
    const items = [...quantities].map(([ticketTypeId, quantity]) => ({ ticketTypeId, quantity }));
    return {
      quantityOf: (id) => quantities.get(id) ?? 0,
      setQuantity,
      clear,
      noticeOf: (id) => notices.get(id),
      items,
      count: items.reduce((sum, item) => sum + item.quantity, 0),
    };
  }, [quantities, notices, setQuantity, clear]);
}
