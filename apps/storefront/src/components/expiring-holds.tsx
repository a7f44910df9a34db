import { useQuery } from '@tanstack/react-query';
import { formatCountdown, plural } from '../format.ts';
import { useNow } from '../hooks/use-now.ts';
import { useQueryStatus } from '../hooks/use-query-status.ts';
import { HOLDS_WITHIN_SECONDS, queries } from '../queries.ts';
import { RequestStatus } from './request-status.tsx';

/** Active holds whose deadline is near, soonest first (GET /api/events/:slug/holds, every 5 s). */
export function ExpiringHolds({ slug }: { slug: string }) {
  const holds = useQuery(queries.holds(slug));
  const status = useQueryStatus(holds);
  const now = useNow(1000);
  const list = holds.data?.holds ?? [];
  const serverNow = now + (holds.data?.offsetMs ?? 0);
  return (
    <>
      <RequestStatus {...status} what="holds" />
      {holds.data && list.length === 0 && <p className="message message--muted">No holds expire in the next {HOLDS_WITHIN_SECONDS / 60} minutes.</p>}
      {list.length > 0 && (
        <ol className="hold-list" data-testid="expiring-holds">
          {list.map((hold) => {
            const remaining = Date.parse(hold.expiresAt) - serverNow;
            const seats = hold.items.reduce((sum, item) => sum + item.quantity, 0);
            return (
              <li key={hold.id} className={remaining < 60_000 ? 'hold-list__item hold-list__item--urgent' : 'hold-list__item'}>
                <span className="hold-list__time">{remaining > 0 ? formatCountdown(remaining) : 'expiring'}</span>
                <span>
                  {plural(seats, 'seat')}: {hold.items.map((item) => `${item.quantity} × ${item.ticketTypeName}`).join(', ')}
                </span>
                {hold.extensionsUsed > 0 && <span className="muted">extended {plural(hold.extensionsUsed, 'time')}</span>}
              </li>
            );
          })}
        </ol>
      )}
    </>
  );
}
