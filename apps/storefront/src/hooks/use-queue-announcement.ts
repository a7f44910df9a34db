import type { QueueResult } from '@ticketpulse/react';
import { useEffect, useRef, useState } from 'react';
import { plural } from '../format.ts';

/** "Your turn ends soon" is said once, when the pass crosses this. */
const ENDING_SOON_SECONDS = 60;

/** How long the pass has left, in words that never promise more time than it has. */
const turnLeft = (seconds: number) => (seconds < 60 ? plural(seconds, 'second') : plural(Math.floor(seconds / 60), 'minute'));

/** What of the queue the announcements look at. */
export type Seen = Pick<QueueResult, 'status' | 'position' | 'peopleAhead' | 'isYourTurn' | 'passSecondsLeft'> & { soldOut: boolean };

/**
 * A place in words, with the people ahead: the place is the number drawn or
 * taken, which stays while those ahead are served, so "number 40" alone
 * would overstate the wait of someone with 9 people ahead (as the page shows).
 */
const placeInLine = ({ position, peopleAhead }: Seen) =>
  `number ${position} in line${peopleAhead === null ? '' : peopleAhead === 0 ? ', with nobody ahead of you' : `, with ${plural(peopleAhead, 'person', 'people')} ahead of you`}`;

/** What changed between two looks at the queue that a screen reader user should hear; null for ticks. */
export function queueAnnouncement(before: Seen, now: Seen): string | null {
  if (now.soldOut && !before.soldOut) return 'Sold out: every ticket has been sold.';
  if (now.isYourTurn && !before.isYourTurn) return `It's your turn. You have ${turnLeft(now.passSecondsLeft ?? 0)} to choose your tickets.`;
  const left = now.passSecondsLeft;
  if (now.isYourTurn && left !== null && left <= ENDING_SOON_SECONDS && (before.passSecondsLeft ?? 0) > ENDING_SOON_SECONDS) return 'Your turn ends in less than a minute.';
  const inLine = now.status === 'prequeue' || now.status === 'waiting';
  // Coming back (a reload, a new tab): the place they had.
  if (inLine && before.status === 'unknown') return now.position === null ? 'You are in the waiting room. Places are drawn when it opens.' : `You are ${placeInLine(now)}.`;
  if (now.position !== null && before.status === 'prequeue') return `Places are drawn: you are ${placeInLine(now)}.`;
  if (inLine && (before.status === 'not_joined' || before.status === 'closed' || before.status === 'expired')) {
    return now.status === 'prequeue' ? 'You joined the waiting room. Places are drawn when it opens.' : `You joined the line: you are ${placeInLine(now)}.`;
  }
  if (now.status === 'expired' && before.status !== 'expired') return 'Your turn has ended.';
  if (now.status === 'closed' && before.status !== 'closed') return 'The waiting room is closed for you.';
  return null;
}

/**
 * The waiting room's announcement for an aria-live region: only joining,
 * places drawn, your turn, your turn ending soon, sold out and the end, not
 * every tick of a countdown or every person served.
 */
export function useQueueAnnouncement(queue: QueueResult): string {
  const [announcement, setAnnouncement] = useState('');
  const seen = useRef<Seen | null>(null);
  const now: Seen = {
    status: queue.status,
    position: queue.position,
    peopleAhead: queue.peopleAhead,
    isYourTurn: queue.isYourTurn,
    passSecondsLeft: queue.passSecondsLeft,
    soldOut: queue.status === 'sold_out' || queue.queue?.status === 'sold_out',
  };
  useEffect(() => {
    const change = seen.current && queueAnnouncement(seen.current, now);
    seen.current = now;
    if (change) setAnnouncement(change);
  });
  return announcement;
}
