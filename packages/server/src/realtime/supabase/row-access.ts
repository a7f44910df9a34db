import type { Queryable } from '../../db/database.ts';
import { isPrivileged, type Principal } from '../../auth/principal.ts';
import type { Row, TableName } from '../../supabase/tables.ts';

/**
 * What a subscriber may see of a changed row: the equivalent of row-level
 * security, decided in memory per change from facts read once per tick.
 *
 * - event_tickets: rows of events the token may see (event_is_visible in
 *   0004_views.sql), without hidden ticket types unless privileged.
 * - tickets: the whole row for its holder and for organizers and the
 *   service; for anyone else who may see the event, the row without its
 *   personal columns (the design's "sensitive data excluded from real-time
 *   updates").
 */

export const PERSONAL_COLUMNS: Readonly<Record<TableName, readonly string[]>> = {
  event_tickets: [],
  tickets: ['holder_id', 'reservation_id'],
};

/** Whole row, row without personal columns, or nothing. */
export type RowView = 'whole' | 'public' | 'none';

/** Who may see which of the events a tick's changes touch. */
export class EventAccess {
  constructor(
    /** Events open to everyone: public and not a draft. */
    private readonly open: ReadonlySet<string>,
    /** `eventId userId` pairs of event_access grants, for the users subscribed. */
    private readonly grants: ReadonlySet<string>,
  ) {}

  visible(eventId: string, principal: Principal): boolean {
    if (isPrivileged(principal) || this.open.has(eventId)) return true;
    return principal.userId !== undefined && this.grants.has(`${eventId} ${principal.userId}`);
  }

  /** What `principal` may see of `row` (the new row, or the old one of a DELETE). */
  view(table: TableName, row: Row, principal: Principal): RowView {
    const eventId = String(row.event_id);
    if (table === 'event_tickets') {
      if (row.status === 'hidden' && !isPrivileged(principal)) return 'none';
      return this.visible(eventId, principal) ? 'whole' : 'none';
    }
    if (isPrivileged(principal) || (principal.userId !== undefined && row.holder_id === principal.userId)) return 'whole';
    return this.visible(eventId, principal) ? 'public' : 'none';
  }
}

/** The row as `view` allows it to be sent. */
export function present(table: TableName, row: Row, view: Exclude<RowView, 'none'>): Row {
  if (view === 'whole') return row;
  const personal = PERSONAL_COLUMNS[table];
  return Object.fromEntries(Object.entries(row).filter(([column]) => !personal.includes(column)));
}

/** One query per tick: which of `eventIds` are open to everyone, and which of `userIds` the others grant. */
export async function loadEventAccess(db: Queryable, eventIds: readonly string[], userIds: readonly string[]): Promise<EventAccess> {
  const { rows } = await db.query<{ id: string; open: boolean; granted: string[] }>(
    `SELECT e.id, e.is_public AND e.status <> 'draft' AS open,
            CASE WHEN e.is_public AND e.status <> 'draft' THEN '{}'::text[]
                 ELSE ARRAY(SELECT a.user_id FROM event_access a WHERE a.event_id = e.id AND a.user_id = ANY ($2::text[])) END AS granted
       FROM events e WHERE e.id = ANY ($1::uuid[])`,
    [eventIds, userIds],
  );
  const open = new Set<string>();
  const grants = new Set<string>();
  for (const r of rows) {
    if (r.open) open.add(r.id);
    for (const userId of r.granted) grants.add(`${r.id} ${userId}`);
  }
  return new EventAccess(open, grants);
}
