import { useQuery } from '@tanstack/react-query';
import type { TicketAvailability } from '@ticketpulse/client';
import { useTicketAvailabilityManager } from '@ticketpulse/react';
import { useCallback, useMemo, useRef, useState } from 'react';
import { queries } from '../queries.ts';
import { useNow } from './use-now.ts';
import { useQueryStatus, type QueryStatus } from './use-query-status.ts';
import { useSoldDeltas } from './use-sold-deltas.ts';

const MINUTE_MS = 60_000;

export interface LiveSales {
  /** One bucket per minute, oldest first, the current minute last. */
  buckets: Array<{ minute: number; sold: number }>;
  /** The seed's loading and error line. */
  status: QueryStatus;
}

/**
 * Seats sold per minute: seeded from GET /api/events/:slug/sales, then kept
 * current from the live stream's soldCount deltas (on the server's clock).
 */
export function useLiveSales(slug: string, availability: ReadonlyMap<string, TicketAvailability>, isStale: boolean, minutes = 60): LiveSales {
  const { clock } = useTicketAvailabilityManager();
  const seed = useQuery(queries.sales(slug, minutes));
  const status = useQueryStatus(seed);
  const [live, setLive] = useState<ReadonlyMap<number, number>>(new Map());
  const seeded = useRef(false);
  seeded.current = seed.data !== undefined;
  useNow(15_000); // re-render so the window slides
  const thisMinute = Math.floor(clock.now() / MINUTE_MS) * MINUTE_MS;

  useSoldDeltas(
    availability,
    isStale,
    useCallback(
      (deltas) => {
        // Before the seed arrives, its own numbers include these sales.
        if (!seeded.current) return;
        const minute = Math.floor(clock.now() / MINUTE_MS) * MINUTE_MS;
        const sold = deltas.reduce((sum, d) => sum + d.sold, 0);
        setLive((current) => new Map(current).set(minute, (current.get(minute) ?? 0) + sold));
      },
      [clock],
    ),
  );

  const buckets = useMemo(() => {
    const totals = new Map<number, number>();
    for (const bucket of seed.data?.buckets ?? []) {
      const minute = Math.floor(Date.parse(bucket.minute) / MINUTE_MS) * MINUTE_MS;
      totals.set(minute, (totals.get(minute) ?? 0) + bucket.sold);
    }
    for (const [minute, sold] of live) totals.set(minute, (totals.get(minute) ?? 0) + sold);
    return Array.from({ length: minutes }, (_, i) => {
      const minute = thisMinute - (minutes - 1 - i) * MINUTE_MS;
      return { minute, sold: totals.get(minute) ?? 0 };
    });
  }, [seed.data, live, thisMinute, minutes]);

  return { buckets, status };
}
