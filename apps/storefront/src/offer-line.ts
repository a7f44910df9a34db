import { plural } from './format.ts';

/** The lead of a waiting-list offer: what came back for the buyer, agreeing with its number, and when it is fewer than asked for, their choice. */
export function offerLine(ticketTypeName: string, offered: number, asked: number): string {
  const lead = `${plural(offered, 'ticket')} of ${ticketTypeName} came back and ${offered === 1 ? 'is' : 'are'} held for you`;
  if (offered >= asked) return `${lead}.`;
  return `${lead} (you asked for up to ${asked}; buy ${offered === 1 ? 'it' : 'these'}, or release ${offered === 1 ? 'it' : 'them'} for the next person).`;
}
