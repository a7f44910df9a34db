import { useQuery } from '@tanstack/react-query';
import { useHoldClient, useReservation } from '@ticketpulse/react';
import { useEffect, useId, useRef, useState } from 'react';
import { formatCountdown, formatPrice, plural } from '../format.ts';
import { holdEndedLine } from '../hold-ended.ts';
import { shownAfterClick } from '../http-request.ts';
import { useQueryStatus } from '../hooks/use-query-status.ts';
import { queries } from '../queries.ts';
import type { Reservation } from '../types.ts';

/** How long the simulated payment step takes. */
const PAYMENT_MS = 1200;

type Action = 'idle' | 'paying' | 'extending' | 'releasing';


/** The hold's items and totals, as the server computed them: exact decimal strings, never multiplied here. */
function HoldItems({ reservation }: { reservation: Reservation | undefined }) {
  if (!reservation) return null;
  const several = reservation.totals.length > 1;
  return (
    <>
      <ul className="hold-panel__items">
        {reservation.items.map((item) => (
          <li key={item.ticketTypeId} data-hold-item={item.ticketTypeName}>
            <span>
              {item.quantity} × {item.ticketTypeName}
            </span>
            <span>{formatPrice(item.total, item.currency)}</span>
          </li>
        ))}
      </ul>
      {/* One total per currency: amounts in two currencies are never added. */}
      <div className="hold-panel__totals">
        {reservation.totals.map(({ currency, total }) => (
          <p key={currency} className="hold-panel__total" data-hold-total={currency}>
            <span>{several ? `Total in ${currency}` : 'Total'}</span>
            <strong>{formatPrice(total, currency)}</strong>
          </p>
        ))}
      </div>
    </>
  );
}

/**
 * The buyer's hold: a countdown on the server's clock, then Buy now (a
 * simulated payment), Extend or Release; and what happened once it ended.
 * `fromWaitlist`: the hold is a waiting-list offer (released seats go to the
 * next in line first).
 */
export function HoldPanel({ reservationId, onDone, fromWaitlist = false }: { reservationId: string; onDone: () => void; fromWaitlist?: boolean }) {
  const { remainingMs, isExpiringSoon, state, error, extend, release, confirm } = useReservation(reservationId);
  const details = useQuery(queries.reservation(useHoldClient(), reservationId));
  const detailsError = useQueryStatus(details).error;
  const [action, setAction] = useState<Action>('idle');
  const [actionError, setActionError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // An offer's panel can sit beside the buyer's own hold: each heading needs its own id.
  const headingId = useId();
  const status = state?.status;

  // Move focus to the panel when the hold's outcome changes, so keyboard and screen reader users hear it.
  useEffect(() => {
    heading.current?.focus();
  }, [status]);

  const run = async (next: Action, work: () => Promise<unknown>) => {
    setAction(next);
    setActionError(null);
    try {
      await work();
    } catch (failure) {
      setActionError(shownAfterClick(failure).message);
    } finally {
      setAction('idle');
    }
  };

  const buy = () =>
    run('paying', async () => {
      await new Promise((resolve) => setTimeout(resolve, PAYMENT_MS));
      await confirm();
    });

  const items = details.data;
  const count = items ? items.items.reduce((sum, i) => sum + i.quantity, 0) : null;

  if (error) {
    return (
      <section className="hold-panel hold-panel--ended" aria-labelledby={headingId}>
        <h2 id={headingId} ref={heading} tabIndex={-1}>
          Your hold
        </h2>
        <p className="message message--error" role="alert">
          Could not load your hold: {error.message}
        </p>
        <button type="button" className="button" onClick={onDone}>
          Choose tickets again
        </button>
      </section>
    );
  }

  if (!state) {
    return (
      <section className="hold-panel" aria-labelledby={headingId} aria-busy="true">
        <h2 id={headingId} ref={heading} tabIndex={-1}>
          Your hold
        </h2>
        <p className="message message--muted" role="status">
          <span className="spinner" aria-hidden="true" /> Loading your hold…
        </p>
      </section>
    );
  }

  if (status === 'confirmed') {
    return (
      <section className="hold-panel hold-panel--success" aria-labelledby={headingId}>
        <h2 id={headingId} ref={heading} tabIndex={-1}>
          Purchase complete
        </h2>
        <p role="status">Thank you! {count === null ? 'Your tickets are confirmed.' : `${plural(count, 'ticket')} confirmed.`} A receipt is on its way.</p>
        <HoldItems reservation={items} />
        <button type="button" className="button" onClick={onDone}>
          Buy more tickets
        </button>
      </section>
    );
  }

  if (status === 'expired' || status === 'released') {
    const expired = status === 'expired';
    return (
      <section className="hold-panel hold-panel--ended" aria-labelledby={headingId}>
        <h2 id={headingId} ref={heading} tabIndex={-1}>
          {expired ? 'Your hold expired' : 'Hold released'}
        </h2>
        <p role="status">{holdEndedLine(status, count, fromWaitlist)}</p>
        <button type="button" className="button" onClick={onDone}>
          Choose tickets again
        </button>
      </section>
    );
  }

  const busy = action !== 'idle';
  return (
    <section className={`hold-panel${isExpiringSoon ? ' hold-panel--urgent' : ''}`} aria-labelledby={headingId}>
      <h2 id={headingId} ref={heading} tabIndex={-1}>
        {fromWaitlist ? 'Your waiting-list offer' : 'Your seats are held'}
      </h2>
      <p className="hold-panel__countdown">
        <span>Time left to buy:</span>
        <span role="timer" aria-label="Time left on your hold" className="hold-panel__timer">
          {formatCountdown(remainingMs ?? 0)}
        </span>
      </p>
      {isExpiringSoon && <p className="message message--warning">Less than 2 minutes left. Buy now or extend your hold.</p>}
      <HoldItems reservation={items} />
      {detailsError && <p className="message message--muted">Could not load the hold's details: {detailsError.message}</p>}
      {action === 'paying' && (
        <p className="message message--muted" role="status">
          <span className="spinner" aria-hidden="true" /> Processing payment…
        </p>
      )}
      {actionError && (
        <p className="message message--error" role="alert">
          {actionError}
        </p>
      )}
      <div className="hold-panel__actions">
        <button type="button" className="button button--primary" disabled={busy} onClick={buy}>
          Buy now
        </button>
        <button type="button" className="button" disabled={busy} onClick={() => run('extending', extend)}>
          Extend
        </button>
        <button
          type="button"
          className="button button--ghost"
          disabled={busy}
          onClick={() => run('releasing', release)}
        >
          Release
        </button>
      </div>
      <p className="hold-panel__fineprint">Extensions used: {state.extensionsUsed}</p>
    </section>
  );
}
