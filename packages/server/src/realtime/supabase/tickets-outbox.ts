import type { Queryable } from '../../db/database.ts';
import type { ChangeType, RowChange } from './row-changes.ts';
import { Serial } from './serial.ts';
import type { Row } from '../../supabase/tables.ts';

/** While some node listens, it keeps the capture lease at least this far ahead. */
const LEASE_SECONDS = 30;
const RENEW_EVERY_MS = 10_000;
/** Outbox rows are pruned this long after they were written, read or not. */
const KEEP_MINUTES = 5;
const PRUNE_EVERY_MS = 60_000;

interface OutboxRow {
  horizon: string;
  txid: string | null;
  op: ChangeType | null;
  rows: Row[] | null;
  changed_at: Date | null;
}

/**
 * tickets changes from the outbox that 0009_supabase_realtime.sql's trigger
 * writes (one row per statement, its rows as an array, with the writer's
 * transaction id).
 *
 * Each tick takes a snapshot and reads the rows of the transactions that
 * had ended when it was taken (pg_visible_in_snapshot), from the horizon on,
 * except those already read. The horizon then moves to the snapshot's xmin,
 * the oldest transaction still running: everything below it has ended and
 * been read. So a transaction that commits after a younger one is read on
 * the tick after it commits, never skipped and never read twice, and a long
 * transaction elsewhere on the server (a big expiry sweep, another
 * application) holds back nobody's changes but its own; it only keeps the
 * ids read above it in memory until it ends.
 */
export class TicketsOutbox {
  /** Transaction id (xid8, as text) from which rows are still to be read; undefined while nobody listens. */
  private horizon: string | undefined;
  /** Transactions at or above the horizon whose rows were read already. */
  private readonly done = new Set<string>();
  private listeners = 0;
  private renewedAt = 0;
  private prunedAt = Date.now();
  private readonly serial = new Serial();

  constructor(private readonly db: Queryable) {}

  get listenerCount(): number {
    return this.listeners;
  }

  /** A subscriber: resolves once statements that start from now on are captured and will be read. */
  listen(): Promise<void> {
    return this.serial.run(async () => {
      // Already reading: the lease is renewed as it reads.
      if (this.horizon === undefined) {
        await this.renew();
        const { rows } = await this.db.query<{ horizon: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon');
        this.horizon = rows[0]!.horizon;
      }
      this.listeners += 1;
    });
  }

  /** A subscriber left; after the last one, reading stops and the lease lapses on its own. */
  release(): void {
    void this.serial.run(async () => {
      this.listeners -= 1;
      if (this.listeners > 0) return;
      this.horizon = undefined;
      this.done.clear();
    });
  }

  /** The changes of transactions that ended since the last read, in transaction order. */
  read(): Promise<RowChange[]> {
    return this.serial.run(async () => {
      if (Date.now() - this.prunedAt >= PRUNE_EVERY_MS) {
        this.prunedAt = Date.now();
        await this.db.query(`DELETE FROM tickets_changes WHERE changed_at < now() - make_interval(mins => $1)`, [KEEP_MINUTES]);
      }
      if (this.horizon === undefined) return [];
      if (Date.now() - this.renewedAt >= RENEW_EVERY_MS) await this.renew();
      const { rows } = await this.db.query<OutboxRow>(
        `SELECT pg_snapshot_xmin(s.snapshot)::text AS horizon, c.txid::text, c.op, array_to_json(c.rows) AS rows, c.changed_at
           FROM (SELECT pg_current_snapshot() AS snapshot) AS s
           LEFT JOIN tickets_changes c ON c.txid >= $1::xid8 AND pg_visible_in_snapshot(c.txid, s.snapshot)
                                      AND c.txid <> ALL ($2::xid8[])
          ORDER BY c.txid, c.seq`,
        [this.horizon, [...this.done]],
      );
      const changes: RowChange[] = [];
      for (const { txid, op, rows: changed, changed_at } of rows) {
        if (!txid || !op || !changed || !changed_at) continue;
        this.done.add(txid);
        const commitTimestamp = changed_at.toISOString();
        for (const row of changed) changes.push(toChange(op, row, commitTimestamp));
      }
      const horizon = BigInt(rows[0]!.horizon);
      if (horizon > BigInt(this.horizon)) {
        this.horizon = horizon.toString();
        for (const txid of this.done) if (BigInt(txid) < horizon) this.done.delete(txid);
      }
      return changes;
    });
  }

  private async renew(): Promise<void> {
    await this.db.query(
      'UPDATE realtime_capture SET tickets_wanted_until = greatest(tickets_wanted_until, now() + make_interval(secs => $1))',
      [LEASE_SECONDS],
    );
    this.renewedAt = Date.now();
  }
}

/** An UPDATE's old row is known by its id only, as with PostgreSQL's default replica identity. */
function toChange(type: ChangeType, row: Row, commitTimestamp: string): RowChange {
  if (type === 'DELETE') return { table: 'tickets', type, record: null, oldRecord: row, commitTimestamp };
  return { table: 'tickets', type, record: row, oldRecord: type === 'UPDATE' ? { id: row.id } : null, commitTimestamp };
}
