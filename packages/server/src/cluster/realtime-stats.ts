import type { RealtimeStats } from '@ticketpulse/protocol';
import { realtimeStatsOf, type Watching } from '../realtime/realtime-stats.ts';
import type { WorkerGather } from './worker-gather.ts';

const REALTIME_STATS = 'realtime-stats';

const isWatching = (part: unknown): part is Watching => typeof part === 'object' && part !== null && Array.isArray((part as Watching).watchedEventIds);

/**
 * GET /api/realtime/stats for the whole of `ticketpulse start --workers N`,
 * whichever worker takes it: every serving worker's part, added up (a worker
 * that does not answer in time is left out of that one answer).
 */
export function workerRealtimeStats(gather: WorkerGather, watching: () => Watching): () => Promise<RealtimeStats> {
  gather.provide(REALTIME_STATS, watching);
  return async () => realtimeStatsOf((await gather.gather(REALTIME_STATS)).filter(isWatching));
}
