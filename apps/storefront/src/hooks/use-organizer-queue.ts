import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useQueue } from '@ticketpulse/react';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../api.ts';
import { queries } from '../queries.ts';
import type { Queue, QueueSettings } from '../types.ts';
import { useNow } from './use-now.ts';
import { useQueryStatus, type QueryStatus } from './use-query-status.ts';

/** The chart's slots: 10 seconds each, the last 10 minutes. */
export const QUEUE_SLOT_MS = 10_000;
const QUEUE_SLOTS = 60;

/** A PUT sets a waiting room up (opensAt and admitPerMinute needed, the rest defaulted); a PATCH changes any subset live. */
export type QueueSetup = Pick<QueueSettings, 'opensAt' | 'admitPerMinute'> & Partial<Omit<QueueSettings, 'paused'>>;
export type QueueChange = Partial<QueueSettings>;

/** One slot of the queue's history: admitted in it, and the line's length at its last reading (null: none). */
export interface QueueSlot {
  at: number;
  admitted: number;
  length: number | null;
}

export interface OrganizerQueue {
  /** The waiting room, as last read; undefined before the first answer or when there is none. */
  queue: Queue | undefined;
  /** True when the event has no waiting room (404 queue_not_found). */
  absent: boolean;
  /** The loading and error line; a missing waiting room is not an error. */
  status: QueryStatus;
  /** Since the panel opened: one slot per 10 s, oldest first. */
  history: QueueSlot[];
  /** PUT (set up) or PATCH (change); the answer replaces the figures. Throws the API's refusal (ApiError). */
  setUp(settings: QueueSetup): Promise<void>;
  change(settings: QueueChange): Promise<void>;
}

interface Reading {
  at: number;
  length: number;
  admitted: number;
}

/**
 * The organizer's view of an event's waiting room, the readings kept for a
 * chart of queue length and admissions, and its PUT and PATCH. The status,
 * the length of the line and served-up-to come live from the realtime
 * `queue` frame (useQueue: each tick that changes them); the settings and
 * the organizer-only figures (admitted, active shoppers, measured rate,
 * abandoned, the last position, the wait) from GET .../queue every 5 s.
 */
export function useOrganizerQueue(slug: string): OrganizerQueue {
  const queryClient = useQueryClient();
  const options = queries.queue(slug);
  const read = useQuery(options);
  const status = useQueryStatus(read);
  const absent = read.error?.code === 'queue_not_found';
  const [readings, setReadings] = useState<Reading[]>([]);
  const now = useNow(QUEUE_SLOT_MS / 2, read.data !== undefined);

  const live = useQueue(slug).queue;
  const polled = read.data;
  const queue = useMemo(
    () => (polled && live?.eventId === polled.eventId ? { ...polled, status: live.status, length: live.length, servedUpTo: live.servedUpTo } : polled),
    [polled, live],
  );
  // A reading at each frame and each poll (a poll that changed nothing too: the chart's line has no gap while the line stands still).
  useEffect(() => {
    if (!queue) return;
    const at = Date.now();
    setReadings((current) => [...current.filter((r) => r.at > at - QUEUE_SLOTS * QUEUE_SLOT_MS), { at, length: queue.length, admitted: queue.admitted }]);
  }, [queue, read.dataUpdatedAt]);

  const history = useMemo(() => queueSlots(readings, now), [readings, now]);

  const { queryKey } = options;
  const save = useCallback(
    async (method: 'PUT' | 'PATCH', body: QueueSetup | QueueChange) => {
      const answer = await api<{ queue: Queue }>(`/api/events/${encodeURIComponent(slug)}/queue`, { method, auth: 'organizer', body });
      // A poll sent before the change would answer with the old settings: drop it, then show the answer.
      await queryClient.cancelQueries({ queryKey });
      queryClient.setQueryData(queryKey, answer.queue);
    },
    [slug, queryClient, queryKey],
  );
  const setUp = useCallback((settings: QueueSetup) => save('PUT', settings), [save]);
  const change = useCallback((settings: QueueChange) => save('PATCH', settings), [save]);

  return { queue: absent ? undefined : queue, absent, status: absent ? { ...status, error: null } : status, history, setUp, change };
}

/**
 * Readings into 10-second slots ending now: admissions are the rise of the
 * admitted count between consecutive readings, put in the slot of the later
 * one; the length is the slot's last reading.
 */
export function queueSlots(readings: readonly Reading[], now: number): QueueSlot[] {
  const end = Math.floor(now / QUEUE_SLOT_MS) * QUEUE_SLOT_MS;
  const slots: QueueSlot[] = Array.from({ length: QUEUE_SLOTS }, (_, i) => ({ at: end - (QUEUE_SLOTS - 1 - i) * QUEUE_SLOT_MS, admitted: 0, length: null }));
  readings.forEach((reading, i) => {
    const index = QUEUE_SLOTS - 1 - (end - Math.floor(reading.at / QUEUE_SLOT_MS) * QUEUE_SLOT_MS) / QUEUE_SLOT_MS;
    const slot = slots[index];
    if (!slot) return;
    const previous = readings[i - 1];
    if (previous) slot.admitted += Math.max(0, reading.admitted - previous.admitted);
    slot.length = reading.length;
  });
  return slots;
}
