import type { TicketAvailability } from '@ticketpulse/client';
import { useCallback, useMemo, useState } from 'react';
import { useNow } from './use-now.ts';
import { useSoldDeltas } from './use-sold-deltas.ts';

export interface SalesVelocity {
  /** Seats sold in the window, all types. */
  soldInWindow: number;
  /** Seats per minute over the window, all types. */
  perMinute: number;
  sellingFast: boolean;
  /** Seats sold in the window for one type. */
  soldFor: (ticketTypeId: string) => number;
  isSellingFast: (ticketTypeId: string) => boolean;
  windowMinutes: number;
}

export interface SalesVelocityOptions {
  windowMs?: number;
  /** An event sells fast at this many seats per minute or more. */
  eventFastPerMinute?: number;
  /** A ticket type sells fast at this many seats per minute or more. */
  typeFastPerMinute?: number;
}

interface Sample {
  at: number;
  ticketTypeId: string;
  sold: number;
}

/** Sales velocity over the last minutes, measured from the live stream's soldCount changes. */
export function useSalesVelocity(
  availability: ReadonlyMap<string, TicketAvailability>,
  isStale: boolean,
  { windowMs = 5 * 60_000, eventFastPerMinute = 3, typeFastPerMinute = 2 }: SalesVelocityOptions = {},
): SalesVelocity {
  const [samples, setSamples] = useState<Sample[]>([]);
  const now = useNow(10_000);

  useSoldDeltas(
    availability,
    isStale,
    useCallback(
      (deltas) => {
        const at = Date.now();
        setSamples((list) => [...list.filter((s) => s.at > at - windowMs), ...deltas.map((d) => ({ at, ticketTypeId: d.ticketTypeId, sold: d.sold }))]);
      },
      [windowMs],
    ),
  );

  return useMemo(() => {
    const recent = samples.filter((s) => s.at > now - windowMs);
    const minutes = windowMs / 60_000;
    const byType = new Map<string, number>();
    let total = 0;
    for (const s of recent) {
      total += s.sold;
      byType.set(s.ticketTypeId, (byType.get(s.ticketTypeId) ?? 0) + s.sold);
    }
    const soldFor = (id: string) => byType.get(id) ?? 0;
    return {
      soldInWindow: total,
      perMinute: total / minutes,
      sellingFast: total / minutes >= eventFastPerMinute,
      soldFor,
      isSellingFast: (id) => soldFor(id) / minutes >= typeFastPerMinute,
      windowMinutes: minutes,
    };
  }, [samples, now, windowMs, eventFastPerMinute, typeFastPerMinute]);
}
