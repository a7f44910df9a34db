import type { PersonalHold, PersonalWaitlistEntry } from '@ticketpulse/protocol';
import type { Queryable } from '../db/database.ts';
import { isoTime } from '../iso-time.ts';

/** One user's feed as read (personal_feeds(), db/repeatable/80_personal_feed.sql). */
export interface PersonalFeedRead {
  holderId: string;
  version: number;
  /** Active holds, and the asked-for (`known`) ones whatever became of them. */
  holds: PersonalHold[];
  /** Live entries (waiting, or with a running offer), and the asked-for ones. */
  waitlist: PersonalWaitlistEntry[];
}

const toHold = (hold: PersonalHold): PersonalHold => ({ ...hold, expiresAt: isoTime(hold.expiresAt) });

const toEntry = (entry: PersonalWaitlistEntry): PersonalWaitlistEntry => ({
  ...entry,
  joinedAt: isoTime(entry.joinedAt),
  offer: entry.offer && { ...entry.offer, offeredAt: isoTime(entry.offer.offeredAt), expiresAt: isoTime(entry.offer.expiresAt) },
});

/**
 * These holders' feeds, in one statement. `known`: holds and entries the
 * reader had (read back whatever became of them, so it can tell how they
 * ended); only each holder's own rows are ever read.
 */
export async function readPersonalFeeds(db: Queryable, holderIds: string[], known: string[], soonSeconds: number): Promise<PersonalFeedRead[]> {
  const { rows } = await db.query<{ holder_id: string; version: string; holds: PersonalHold[]; waitlist: PersonalWaitlistEntry[] }>(
    'SELECT * FROM personal_feeds($1::text[], $2::uuid[], $3::integer)',
    [holderIds, known, soonSeconds],
  );
  return rows.map((row) => ({ holderId: row.holder_id, version: Number(row.version), holds: row.holds.map(toHold), waitlist: row.waitlist.map(toEntry) }));
}

/** Only these holders' feed versions: a cheap check of who changed. */
export async function readPersonalFeedVersions(db: Queryable, holderIds: string[], soonSeconds: number): Promise<Map<string, number>> {
  const { rows } = await db.query<{ holder_id: string; version: string }>('SELECT * FROM personal_feed_versions($1::text[], $2::integer)', [
    holderIds,
    soonSeconds,
  ]);
  return new Map(rows.map((row) => [row.holder_id, Number(row.version)]));
}
