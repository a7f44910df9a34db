import type { Queryable } from '../../db/database.ts';
import type { ChangeType, RowChange } from './row-changes.ts';
import { Serial } from './serial.ts';
import type { Row } from './tables.ts';

/** While some node listens, it keeps the capture lease at least this far ahead. */
const LEASE_SECONDS = 30;
const RENEW_EVERY_MS = 10_000;
/** Outbox rows are pruned this long after they were written, read or not. */
const KEEP_MINUTES = 5;
const PRUNE_EVERY_MS = 60_000;

interface OutboxRow {
  horizon: string;
  op: ChangeType | null;
  rows: Row[] | null;
  changed_at: Date | null;
}

/**
 * tickets changes from the outbox that 0009_supabase_realtime.sql's trigger
 * writes (one row per statement, its rows as jsonb, with the writer's
 * transaction id).
 *
 * Each tick reads the rows of transactions in [horizon, xmin), where xmin is
 * the oldest transaction still running, then moves the horizon to xmin.
 * Every transaction below xmin has ended, so its rows are all visible (or
 * were rolled back): a transaction that commits after a younger one is read
 * on the tick after it commits, never skipped, never read twice. The price:
 * a long transaction anywhere on the server holds every later change back
 * until it ends.
 */
export class TicketsOutbox {
  /** Transaction id (xid8, as text) from which rows are still to be read; undefined while nobody listens. */
  private horizon: string | undefined;
  private listeners = 0;
  private renewedAt = 0;
  private prunedAt = Date.now();
  private readonly serial = new Serial();

  constructor(private readonly db: Queryable) {}

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
      if (this.listeners === 0) this.horizon = undefined;
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
        `SELECT s.horizon::text AS horizon, c.op, c.rows, c.changed_at
           FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon) AS s
           LEFT JOIN tickets_changes c ON c.txid >= $1::xid8 AND c.txid < s.horizon
          ORDER BY c.txid, c.seq`,
        [this.horizon],
      );
      const changes: RowChange[] = [];
      for (const { op, rows: changed, changed_at } of rows) {
        if (!op || !changed || !changed_at) continue;
        const commitTimestamp = changed_at.toISOString();
        for (const row of changed) changes.push(toChange(op, row, commitTimestamp));
      }
      const horizon = rows[0]!.horizon;
      if (BigInt(horizon) > BigInt(this.horizon)) this.horizon = horizon;
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
