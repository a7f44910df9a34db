import type { Queryable } from '../../db/database.ts';
import type { EventAvailabilityWithRows } from '../../inventory/availability.ts';
import type { RowChange } from './row-changes.ts';
import { Serial } from './serial.ts';
import type { Row } from '../../supabase/tables.ts';

interface TrackedEvent {
  /** events.availability_version when last read: every change to the event's ticket types bumps it. */
  version: number;
  /** Each ticket type's row as last sent, by id. */
  rows: Map<string, Row>;
}

interface ReadRow {
  event_id: string;
  availability_version: number;
  changed_at: Date;
  row: Row | null;
}

/**
 * event_tickets changes, derived without triggers. The realtime tick
 * (ChangeTick) decides which events changed and reads them once for every
 * endpoint; each tracked event's ticket-type rows in that read are diffed
 * against the state last sent by its `version`: a new id is an INSERT, a
 * higher version an UPDATE (a storm becomes one UPDATE per tick whose record
 * is the latest state), a vanished id a DELETE.
 */
export class EventTicketsCapture {
  private readonly tracked = new Map<string, TrackedEvent>();
  /** Some binding watches events without naming them: every event is tracked. */
  private all = false;
  private readonly serial = new Serial();

  constructor(private readonly db: Queryable) {}

  /** How many events are tracked, or 'all'. */
  get trackedEvents(): number | 'all' {
    return this.all ? 'all' : this.tracked.size;
  }

  /** The events whose changes it wants read: 'all' while some binding names no event. */
  watched(): Iterable<string> | 'all' {
    return this.all ? 'all' : this.tracked.keys();
  }

  /** Whether a change to the event is diffed (and so sent to whoever may see it). */
  tracks(eventId: string): boolean {
    return this.all || this.tracked.has(eventId);
  }

  /** The version of an event last diffed, undefined when untracked. */
  versionOf(eventId: string): number | undefined {
    return this.tracked.get(eventId)?.version;
  }

  /**
   * Starts tracking events (or all) before a join is answered: their current
   * rows become the baseline, so the first change after it is an UPDATE.
   * Returns the events newly tracked ('all' once every event is): the tick
   * may have passed over a change to them while the baseline was read, so
   * they are to be checked next tick.
   */
  track(eventIds: readonly string[] | 'all'): Promise<string[] | 'all'> {
    return this.serial.run(async () => {
      if (eventIds === 'all') {
        if (this.all) return [];
        // Only events not tracked yet: a tracked event's rows are what its subscribers were last
        // sent, and a change since then is the next tick's to send, not a new baseline's to absorb.
        this.apply(await this.query({ all: true, untrackedOnly: true }), false);
        this.all = true;
        return 'all';
      }
      const fresh = eventIds.filter((id) => !this.tracked.has(id));
      if (fresh.length === 0 || this.all) return [];
      this.apply(await this.query({ all: false, eventIds: fresh }), false);
      return fresh;
    });
  }

  /** Forgets events no binding watches any more (`all`: some binding still watches every event). */
  retain(eventIds: ReadonlySet<string>, all: boolean): void {
    if (all) return;
    this.all = false;
    for (const id of this.tracked.keys()) if (!eventIds.has(id)) this.tracked.delete(id);
  }

  /**
   * This tick's changes, from the tick's read: the tracked events (any, while
   * all are tracked) whose version moved past the one last diffed.
   */
  diff(events: readonly EventAvailabilityWithRows[]): Promise<RowChange[]> {
    return this.serial.run(async () => {
      const read: ReadRow[] = [];
      for (const event of events) {
        const known = this.tracked.get(event.eventId);
        if (known ? event.version <= known.version : !this.all) continue;
        const base = { event_id: event.eventId, availability_version: event.version, changed_at: new Date(event.changedAt) };
        // In the baseline's order (sort_order, then id), so changes come out as they did.
        const rows = [...event.ticketTypeRows].sort(bySortOrderThenId);
        if (rows.length === 0) read.push({ ...base, row: null });
        for (const row of rows) read.push({ ...base, row });
      }
      return this.apply(read, true);
    });
  }

  /** The rows of events (all, or the given ones) whose version moved past the one last read. */
  private async query(scope: { all: true; untrackedOnly: true } | { all: false; eventIds: readonly string[] }): Promise<ReadRow[]> {
    const known = [...this.tracked];
    const { rows } = await this.db.query<ReadRow>(
      `SELECT e.id AS event_id, e.availability_version, e.availability_changed_at AS changed_at, to_jsonb(et) AS row
         FROM events e
         LEFT JOIN unnest($3::uuid[], $4::bigint[]) AS k (id, version) ON k.id = e.id
         LEFT JOIN event_tickets et ON et.event_id = e.id
        WHERE ($1 OR e.id = ANY ($2::uuid[])) AND e.availability_version > coalesce(k.version, 0) AND NOT ($5 AND k.id IS NOT NULL)
        ORDER BY e.id, et.sort_order, et.name COLLATE "C", et.id`,
      [scope.all, 'eventIds' in scope ? scope.eventIds : [], known.map(([id]) => id), known.map(([, event]) => event.version), 'untrackedOnly' in scope],
    );
    return rows;
  }

  /** Stores what was read; with `emit`, returns how it differs from what was stored. */
  private apply(rows: ReadRow[], emit: boolean): RowChange[] {
    const changes: RowChange[] = [];
    const byEvent = new Map<string, ReadRow[]>();
    for (const r of rows) {
      let list = byEvent.get(r.event_id);
      if (!list) byEvent.set(r.event_id, (list = []));
      list.push(r);
    }
    for (const [eventId, list] of byEvent) {
      const first = list[0]!;
      const before = this.tracked.get(eventId)?.rows ?? new Map<string, Row>();
      const after = new Map<string, Row>();
      const commitTimestamp = first.changed_at.toISOString();
      for (const { row } of list) {
        if (!row) continue;
        const id = String(row.id);
        after.set(id, row);
        const old = before.get(id);
        if (!old) changes.push({ table: 'event_tickets', type: 'INSERT', record: row, oldRecord: null, commitTimestamp });
        else if (Number(row.version) > Number(old.version)) {
          changes.push({ table: 'event_tickets', type: 'UPDATE', record: row, oldRecord: old, commitTimestamp });
        } else after.set(id, old);
      }
      for (const [id, old] of before) {
        if (!after.has(id)) changes.push({ table: 'event_tickets', type: 'DELETE', record: null, oldRecord: old, commitTimestamp });
      }
      this.tracked.set(eventId, { version: first.availability_version, rows: after });
    }
    return emit ? changes : [];
  }
}

const bySortOrderThenId = (a: Row, b: Row): number =>
  Number(a.sort_order) - Number(b.sort_order) || (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0);
