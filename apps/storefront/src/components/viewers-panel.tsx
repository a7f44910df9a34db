import { useQuery } from '@tanstack/react-query';
import { useQueryStatus } from '../hooks/use-query-status.ts';
import { queries } from '../queries.ts';
import { RequestStatus } from './request-status.tsx';

/** Who is watching: this event's viewers and the gateway's connections (GET /api/realtime/stats, every 5 s). */
export function ViewersPanel({ eventId }: { eventId: string | undefined }) {
  const stats = useQuery(queries.realtimeStats());
  const status = useQueryStatus(stats);
  const data = stats.data;
  return (
    <>
      <RequestStatus {...status} what="viewer numbers" />
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
