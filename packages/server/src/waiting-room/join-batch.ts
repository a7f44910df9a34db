/**
 * One batch of joins into one event's waiting room, decided by
 * queue_join_batch() (db/repeatable/70_waiting_room.sql) in one statement:
 * the queue row is locked once and positions go out in the batch's order,
 * the order the joins arrived here (GroupCommit keeps it).
 */
import type { QueueEntry } from '@ticketpulse/protocol';
import type { Queryable } from '../db/database.ts';
import type { Refusal } from '../inventory/errors.ts';

/** One join as queue_join_batch() takes it. */
export interface BatchedJoin {
  holderId: string;
  userId: string | null;
  privileged: boolean;
}

/** queue_entry_json() (db/repeatable/70_waiting_room.sql). */
export interface EntryRow {
  id: string;
  eventId: string;
  holderId: string;
  status: QueueEntry['status'];
  position: number | null;
  peopleAhead: number | null;
  estimatedWaitSeconds: number | null;
  opensAt: string;
  admittedAt: string | null;
  passExpiresAt: string | null;
}

export type JoinOutcome = { entry: EntryRow; created: boolean } | Refusal;

/** queue_join_batch()'s answer: what every new entry of the batch shares, and one outcome per join. */
interface BatchAnswer {
  fresh: { eventId: string; status: QueueEntry['status']; opensAt: string };
  outcomes: Array<{ created: [id: string, position: number | null, peopleAhead: number | null, estimatedWaitSeconds: number | null] } | { entry: EntryRow } | Refusal>;
}

export async function decideJoins(db: Queryable, eventRef: string, joins: BatchedJoin[]): Promise<JoinOutcome[]> {
  const { rows } = await db.query<{ answer: BatchAnswer }>('SELECT queue_join_batch($1, $2::text[], $3::text[], $4::boolean[]) AS answer', [
    eventRef,
    joins.map((j) => j.holderId),
    joins.map((j) => j.userId),
    joins.map((j) => j.privileged),
  ]);
  const { fresh, outcomes } = rows[0]!.answer;
  return outcomes.map((outcome, i) => {
    if ('entry' in outcome) return { entry: outcome.entry, created: false };
    if (!('created' in outcome)) return outcome;
    const [id, position, peopleAhead, estimatedWaitSeconds] = outcome.created;
    const entry: EntryRow = { id, eventId: fresh.eventId, holderId: joins[i]!.holderId, status: fresh.status, position, peopleAhead, estimatedWaitSeconds, opensAt: fresh.opensAt, admittedAt: null, passExpiresAt: null };
    return { entry, created: true };
  });
}
