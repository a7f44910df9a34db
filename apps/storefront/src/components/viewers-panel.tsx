import { api } from '../api.ts';
import { useRequest } from '../hooks/use-request.ts';
import type { RealtimeStats } from '../types.ts';
import { RequestStatus } from './request-status.tsx';

/** Who is watching: this event's viewers and the gateway's connections (GET /api/realtime/stats, every 5 s). */
export function ViewersPanel({ eventId }: { eventId: string | undefined }) {
  const stats = useRequest('realtime-stats', (signal) => api<RealtimeStats>('/api/realtime/stats', { auth: 'organizer', signal }), 5000);
  const data = stats.data;
  return (
    <>
      <RequestStatus loading={stats.loading} error={stats.error} what="viewer numbers" onRetry={stats.reload} />
      {data && (
        <dl className="stats" data-testid="viewers">
          <div>
            <dt>Viewers of this event</dt>
            <dd data-stat="viewers">{eventId === undefined ? '—' : (data.viewers[eventId] ?? 0)}</dd>
          </div>
          <div>
            <dt>Open connections</dt>
            <dd data-stat="connections">{data.connections}</dd>
          </div>
          <div>
            <dt>Events watched</dt>
            <dd data-stat="watched-events">{data.watchedEvents}</dd>
          </div>
        </dl>
      )}
    </>
  );
}
