import { api } from '../api.ts';
import { formatCountdown, plural } from '../format.ts';
import { useNow } from '../hooks/use-now.ts';
import { useRequest } from '../hooks/use-request.ts';
import type { HoldsResponse } from '../types.ts';
import { RequestStatus } from './request-status.tsx';

const POLL_MS = 5000;
// A whole default hold (15 minutes), so every live hold is on the list.
const WITHIN_SECONDS = 900;

/** Active holds whose deadline is near, soonest first (GET /api/events/:slug/holds, every 5 s). */
export function ExpiringHolds({ slug }: { slug: string }) {
  const holds = useRequest(
    `holds:${slug}`,
    async (signal) => {
      const response = await api<HoldsResponse>(`/api/events/${encodeURIComponent(slug)}/holds?expiringWithinSeconds=${WITHIN_SECONDS}`, { auth: 'organizer', signal });
      // The server's time when answered, against ours: countdowns use the server's clock.
      return { ...response, offsetMs: Date.parse(response.serverTime) - Date.now() };
    },
    POLL_MS,
  );
  const now = useNow(1000);
  const list = holds.data?.holds ?? [];
  const serverNow = now + (holds.data?.offsetMs ?? 0);
  return (
    <>
      <RequestStatus loading={holds.loading} error={holds.error} what="holds" onRetry={holds.reload} />
      {holds.data && list.length === 0 && <p className="message message--muted">No holds expire in the next {WITHIN_SECONDS / 60} minutes.</p>}
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
