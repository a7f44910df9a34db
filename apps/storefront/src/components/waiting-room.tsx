import type { QueueResult } from '@ticketpulse/react';
import { useState, type ReactNode } from 'react';
import { formatCountdown, formatWait, plural } from '../format.ts';
import { enoughTicketsLine } from '../enough-tickets.ts';
import { lineProgressPercent } from '../line-progress.ts';
import { shown } from '../http-request.ts';

/** The honest line: will the people ahead leave tickets for you? */
function EnoughTickets({ queue }: { queue: QueueResult }) {
  const left = queue.queue?.ticketsLeft;
  if (left === null || left === undefined) return null;
  return (
    <p className={`message ${queue.ticketsLikelyEnough === 'no' ? 'message--warning' : 'message--muted'}`} data-enough={queue.ticketsLikelyEnough}>
      {enoughTicketsLine(left, queue.peopleAhead ?? 0, queue.ticketsLikelyEnough, queue.queue?.seatsPerOrder ?? null)}
    </p>
  );
}

/** How far along the line the visitor is, since this page first showed this place (lineProgressPercent). */
function LineProgress({ position, peopleAhead }: { position: number; peopleAhead: number }) {
  const [start, setStart] = useState({ position, peopleAhead });
  // A new place (joined again): the bar starts over from there.
  if (start.position !== position) setStart({ position, peopleAhead });
  const percent = lineProgressPercent(start.position === position ? start.peopleAhead : peopleAhead, peopleAhead);
  return (
    <div className="queue-progress" role="progressbar" aria-label="Your progress through the line" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
      <div className="queue-progress__bar" style={{ width: `${percent}%` }} />
    </div>
  );
}

function QueueFigures({ queue }: { queue: QueueResult }) {
  const { position, peopleAhead, estimatedWaitSeconds } = queue;
  return (
    <>
      <dl className="queue-figures">
        <div>
          {/* The number drawn or given on arrival: it stays while people ahead are served, so "place" would read as a rank. */}
          <dt>Your number</dt>
          <dd data-queue="position">{position ?? '—'}</dd>
        </div>
        <div>
          <dt>People ahead</dt>
          <dd data-queue="ahead">{peopleAhead ?? '—'}</dd>
        </div>
        <div>
          <dt>Estimated wait</dt>
          <dd data-queue="wait">{estimatedWaitSeconds === null ? '—' : formatWait(estimatedWaitSeconds)}</dd>
        </div>
      </dl>
      {position !== null && peopleAhead !== null && <LineProgress position={position} peopleAhead={peopleAhead} />}
    </>
  );
}

/** Why admission is not moving, when it is not. */
function AdmissionNote({ queue }: { queue: QueueResult }) {
  const status = queue.queue?.status;
  if (status === 'paused') return <p className="message message--muted">Admission is paused for now; your place is kept.</p>;
  if (status === 'held_out') return <p className="message message--warning">Every ticket left is held by someone right now. Tickets may come back: admission resumes by itself.</p>;
  return null;
}

/**
 * The event page of an event with a waiting room, until it is the visitor's
 * turn: the pre-queue countdown, then their place, people ahead, progress,
 * wait and the "enough tickets?" line; sold out and leaving shown plainly.
 * `children`: shown when sold out, the ticket types' waiting lists.
 */
export function WaitingRoom({ queue, children }: { queue: QueueResult; children?: ReactNode }) {
  const room = queue.queue;
  const soldOut = queue.status === 'sold_out' || room?.status === 'sold_out';
  const error = queue.error && shown(queue.error).message;
  const rejoin = (label: string) => (
    <button type="button" className="button button--primary" disabled={queue.pending} onClick={() => void queue.join()}>
      {label}
    </button>
  );
  let body;
  if (soldOut) {
    body = (
      <>
        <p className="message message--error" data-queue-state="sold-out">
          <strong>Sold out.</strong> Every ticket has been sold, and none are held that could come back.
        </p>
        {children && (
          <div className="waiting-room__waitlist">
            <p className="muted">Join a waiting list: if tickets come back, they are offered in order, held in your name, with no need to queue again.</p>
            {children}
          </div>
        )}
      </>
    );
  } else if (queue.status === 'closed') {
    // Left the line (a closed room is not shown: the event page shows the tickets instead).
    body = (
      <>
        <p className="message message--muted" data-queue-state="left">
          You left the line.
        </p>
        {rejoin('Join again (at the end of the line)')}
      </>
    );
  } else if (queue.status === 'expired') {
    body = (
      <>
        <p className="message message--warning" data-queue-state="expired">
          Your turn has ended. You can join again, at the end of the line.
        </p>
        {rejoin('Join again')}
      </>
    );
  } else if (queue.status === 'not_joined') {
    body = <p className="message message--muted">{queue.pending ? 'Joining the line…' : 'You are not in the line.'}</p>;
    if (!queue.pending) body = <>{body}{rejoin('Join the waiting room')}</>;
  } else if (queue.status === 'prequeue') {
    body = (
      <>
        <p className="queue-countdown" data-queue-state="prequeue">
          Opens in <span role="timer" aria-live="off">{formatCountdown((queue.secondsUntilOpen ?? 0) * 1000)}</span>
        </p>
        <p className="message message--muted">
          You are in. When it opens, everyone who joined before gets a place in line drawn at random: arriving earlier gains nothing, so there is no need to refresh.
        </p>
        {room && <p className="muted">{plural(room.length, 'person', 'people')} waiting.</p>}
      </>
    );
  } else {
    body = (
      <>
        <QueueFigures queue={queue} />
        <AdmissionNote queue={queue} />
        <EnoughTickets queue={queue} />
        <p className="muted">Keep this page open: you keep your place while it is, and it will tell you when it is your turn.</p>
      </>
    );
  }
  return (
    <div className="waiting-room" data-queue-status={queue.status}>
      <h3>Waiting room</h3>
      {body}
      {error && (
        <p className="message message--error" role="alert">
          {error}
        </p>
      )}
      {(queue.status === 'prequeue' || queue.status === 'waiting') && (
        <button type="button" className="button button--ghost button--small" disabled={queue.pending} onClick={() => void queue.leave()}>
          Leave the line
        </button>
      )}
    </div>
  );
}

/** Above the tickets while it is the visitor's turn: the pass countdown, or that nothing is left to buy. */
export function YourTurn({ queue }: { queue: QueueResult }) {
  if (queue.queue?.status === 'sold_out') {
    return (
      <p className="message message--error" data-queue-state="sold-out">
        <strong>Sold out.</strong> The last tickets went while it was your turn.
      </p>
    );
  }
  return (
    <div className="message message--success your-turn" data-queue-state="your-turn">
      <strong>It's your turn!</strong>
      <span>
        Choose your tickets and hold them within{' '}
        <span role="timer" aria-label="Time left in your turn" aria-live="off">
          {formatCountdown((queue.passSecondsLeft ?? 0) * 1000)}
        </span>
        .
      </span>
    </div>
  );
}
