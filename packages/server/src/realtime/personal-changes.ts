import type { PersonalChange, PersonalHold, PersonalWaitlistEntry } from '@ticketpulse/protocol';

/** What the feed keeps of a user: their active holds and live entries, by id. */
export interface PersonalItems {
  holds: ReadonlyMap<string, PersonalHold>;
  entries: ReadonlyMap<string, PersonalWaitlistEntry>;
}

export const isLiveHold = (hold: PersonalHold): boolean => hold.status === 'active';
export const isLiveEntry = (entry: PersonalWaitlistEntry): boolean => entry.status === 'waiting' || entry.status === 'offered';

const ENDED_HOLD = { confirmed: 'hold_confirmed', released: 'hold_released', expired: 'hold_expired' } as const;

/**
 * The changes from what a user had to what was read (the read carries every
 * hold and entry they had, whatever became of it). Undefined when something
 * they had is missing from the read (a read that began before they had it):
 * read again rather than guess how it ended.
 */
export function personalChanges(had: PersonalItems, holds: readonly PersonalHold[], entries: readonly PersonalWaitlistEntry[]): PersonalChange[] | undefined {
  const readHolds = new Set(holds.map((hold) => hold.reservationId));
  const readEntries = new Set(entries.map((entry) => entry.id));
  for (const id of had.holds.keys()) if (!readHolds.has(id)) return undefined;
  for (const id of had.entries.keys()) if (!readEntries.has(id)) return undefined;
  const changes: PersonalChange[] = [];
  for (const entry of entries) {
    const before = had.entries.get(entry.id);
    if (before?.status === entry.status) continue;
    if (!before) {
      if (isLiveEntry(entry)) changes.push({ change: entry.status === 'waiting' ? 'waitlist_joined' : 'waitlist_offered', entry });
    } else if (entry.status === 'offered') changes.push({ change: 'waitlist_offered', entry });
    else if (entry.status === 'left' || entry.status === 'closed') changes.push({ change: 'waitlist_left', entry });
    else changes.push({ change: 'waitlist_offer_ended', entry });
  }
  for (const hold of holds) {
    const before = had.holds.get(hold.reservationId);
    if (!before) {
      if (isLiveHold(hold)) changes.push({ change: 'hold_created', hold });
    } else if (hold.status !== 'active') changes.push({ change: ENDED_HOLD[hold.status], hold });
    else if (hold.expiresAt !== before.expiresAt) changes.push({ change: 'hold_extended', hold });
    else if (hold.expiringSoon && !before.expiringSoon) changes.push({ change: 'hold_expiring', hold });
  }
  return changes;
}
