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

export async function decideJoins(db: Queryable, eventRef: string, joins: BatchedJoin[]): Promise<JoinOutcome[]> {
  const { rows } = await db.query<{ outcomes: JoinOutcome[] }>('SELECT queue_join_batch($1, $2::jsonb) AS outcomes', [eventRef, JSON.stringify(joins)]);
  return rows[0]!.outcomes;
}
