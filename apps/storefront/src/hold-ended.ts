import { plural } from './format.ts';

/**
 * What became of the seats of a hold that expired or was released, in one
 * sentence that agrees with their number (`count`: null while the hold's
 * items are not loaded). `fromWaitlist`: an offer, whose seats go to the next
 * in line first. The panel sits beside the tickets or below them, so the
 * counts are not said to be "above".
 */
export function holdEndedLine(how: 'expired' | 'released', count: number | null, fromWaitlist: boolean): string {
  const one = count === 1;
  const seats = count === null ? 'your tickets' : plural(count, 'ticket');
  const gone = fromWaitlist ? `${one ? 'goes' : 'go'} to the next person waiting, or back on sale` : `${one ? 'is' : 'are'} back on sale`;
  const line = how === 'expired' ? `Time ran out: ${seats} ${gone}.` : `You let ${seats} go; ${one ? 'it' : 'they'} ${gone}.`;
  return fromWaitlist ? line : `${line} The ticket counts now include ${one ? 'it' : 'them'}.`;
}
