import type { DisplayPrecision, EventStatus, EventSummary, EventWithTicketTypes, TicketType, TicketTypeStatus } from '@ticketpulse/protocol';
import type { Database, Queryable } from '../db/database.ts';
import { isDatabaseError } from '../db/database.ts';
import { InventoryError } from './errors.ts';
import { byIdOrSlug } from './event-ref.ts';
import type { Audience } from '../auth/principal.ts';
import type { AvailabilityListener } from './availability-listener.ts';
import type { TicketTypeColumns } from './ticket-type-columns.ts';
import { isoTime } from '../iso-time.ts';

export type { EventStatus, EventSummary, EventWithTicketTypes, TicketType, TicketTypeStatus };

export interface NewTicketType {
  name: string;
  description?: string | null;
  price?: string;
  currency?: string;
  totalCapacity: number | null;
  maxPerOrder?: number;
  lowStockThreshold?: number | null;
  status?: TicketTypeStatus;
  sortOrder?: number;
}

export interface NewEvent {
  slug: string;
  name: string;
  description?: string | null;
  venue?: string | null;
  startsAt: string;
  isPublic?: boolean;
  status?: EventStatus;
  holdSeconds?: number | null;
  holdExtensionSeconds?: number | null;
  maxHoldExtensions?: number | null;
  ticketTypes: NewTicketType[];
}

export interface EventChange {
  status?: EventStatus;
  isPublic?: boolean;
  displayPrecision?: DisplayPrecision;
}

export interface TicketTypeChange {
  totalCapacity?: number | null;
  status?: TicketTypeStatus;
  maxPerOrder?: number;
}

/** Parameters for event_is_visible(e, user, privileged), in that order. */
export const audienceParams = (audience: Audience): [string | null, boolean] => [audience.userId ?? null, audience.privileged];

const EVENT_COLUMNS = `e.id, e.slug, e.name, e.description, e.venue, e.starts_at, e.is_public, e.status,
  e.sold_count, e.reserved_count, e.availability_version, e.display_precision, e.hold_seconds, e.waitlist_enabled`;

interface EventRow {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  venue: string | null;
  starts_at: Date;
  is_public: boolean;
  status: EventStatus;
  sold_count: number;
  reserved_count: number;
  availability_version: number;
  display_precision: DisplayPrecision;
  hold_seconds: number | null;
  waitlist_enabled: boolean;
}

interface TicketTypeRow extends TicketTypeColumns {
  id: string;
  event_id: string;
  name: string;
  status: TicketTypeStatus;
  max_per_order: number;
  low_stock_threshold: number | null;
  sort_order: number;
  version: number;
  waitlist_enabled: boolean;
  waitlist_waiting: number;
}

const toEvent = (r: EventRow): EventSummary => ({
  id: r.id,
  slug: r.slug,
  name: r.name,
  description: r.description,
  venue: r.venue,
  startsAt: r.starts_at.toISOString(),
  isPublic: r.is_public,
  status: r.status,
  soldCount: r.sold_count,
  reservedCount: r.reserved_count,
  availabilityVersion: r.availability_version,
  displayPrecision: r.display_precision,
  holdSeconds: r.hold_seconds,
  waitlistEnabled: r.waitlist_enabled,
});

const toTicketType = (r: TicketTypeRow): TicketType => ({
  id: r.id,
  eventId: r.event_id,
  name: r.name,
  description: r.description,
  price: r.price,
  currency: r.currency,
  totalCapacity: r.total_capacity,
  soldCount: r.sold_count,
  reservedCount: r.reserved_count,
  availableCount: r.available_count,
  status: r.status,
  maxPerOrder: r.max_per_order,
  lowStockThreshold: r.low_stock_threshold,
  sortOrder: r.sort_order,
  version: r.version,
  waitlistEnabled: r.waitlist_enabled,
});

/** Buyers of an event that shows bands only learn no numbers here either, as in its availability. */
const withholdsCounts = (audience: Audience, precision: DisplayPrecision) => !audience.privileged && precision === 'bands';

function presentEvent(event: EventSummary, audience: Audience): EventSummary {
  return withholdsCounts(audience, event.displayPrecision) ? { ...event, soldCount: null, reservedCount: null } : event;
}

function presentTicketType(type: TicketType, audience: Audience, precision: DisplayPrecision): TicketType {
  if (!withholdsCounts(audience, precision)) return type;
  return { ...type, totalCapacity: null, soldCount: null, reservedCount: null, availableCount: null, lowStockThreshold: null, version: 0 };
}

/** Events and their ticket types: what is on sale, and organizers' changes to it. */
export class Catalog {
  constructor(
    private readonly db: Database,
    /** Told, after commit, of every event whose availability a change touched. */
    private readonly onChange: AvailabilityListener = () => {},
  ) {}

  async listEvents(audience: Audience): Promise<EventSummary[]> {
    const { rows } = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events e WHERE event_is_visible(e, $1, $2) ORDER BY e.starts_at, e.name`,
      audienceParams(audience),
    );
    return rows.map((r) => presentEvent(toEvent(r), audience));
  }

  /** The id of an event the audience may see, addressed by id or slug. */
  async resolveEventId(idOrSlug: string, audience: Audience): Promise<string> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT e.id FROM events e WHERE ${byIdOrSlug(idOrSlug)} AND event_is_visible(e, $2, $3)`,
      [idOrSlug, ...audienceParams(audience)],
    );
    if (!rows[0]) throw new InventoryError('event_not_found', 'Event not found');
    return rows[0].id;
  }

  async getEvent(idOrSlug: string, audience: Audience): Promise<EventWithTicketTypes> {
    const { rows } = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events e WHERE ${byIdOrSlug(idOrSlug)} AND event_is_visible(e, $2, $3)`,
      [idOrSlug, ...audienceParams(audience)],
    );
    const event = rows[0];
    if (!event) throw new InventoryError('event_not_found', 'Event not found');
    const hidden = audience.privileged ? '' : `AND status <> 'hidden'`;
    const types = await this.db.query<TicketTypeRow>(
      `SELECT * FROM event_tickets WHERE event_id = $1 ${hidden} ORDER BY sort_order, name COLLATE "C", id`,
      [event.id],
    );
    return {
      ...presentEvent(toEvent(event), audience),
      ticketTypes: types.rows.map((r) => presentTicketType(toTicketType(r), audience, event.display_precision)),
    };
  }

  async createEvent(input: NewEvent): Promise<EventWithTicketTypes> {
    const id = await this.db
      .transaction(async (tx) => {
        const { rows } = await tx.query<{ id: string }>(
          `INSERT INTO events (slug, name, description, venue, starts_at, is_public, status,
                               hold_seconds, hold_extension_seconds, max_hold_extensions)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
          [
            input.slug,
            input.name,
            input.description ?? null,
            input.venue ?? null,
            // The instant in UTC: ISO 8601 allows offsets up to ±23:59, PostgreSQL only up to ±15:59.
            isoTime(input.startsAt),
            input.isPublic ?? true,
            input.status ?? 'on_sale',
            input.holdSeconds ?? null,
            input.holdExtensionSeconds ?? null,
            input.maxHoldExtensions ?? null,
          ],
        );
        const eventId = rows[0]!.id;
        await insertTicketTypes(tx, eventId, input.ticketTypes);
        return eventId;
      })
      .catch((error: unknown) => {
        if (isDatabaseError(error) && error.code === '23505' && error.constraint === 'events_slug_key') {
          throw new InventoryError('event_slug_taken', `An event with slug "${input.slug}" already exists`);
        }
        throw error;
      });
    return this.getEvent(id, { privileged: true });
  }

  /** Opens, pauses or closes the sale, changes visibility or display precision. */
  async updateEvent(idOrSlug: string, change: EventChange): Promise<EventWithTicketTypes> {
    const id = await this.db.transaction(async (tx) => {
      const resuming = change.status === 'on_sale';
      // Opening the sale may make offers, which lock the event's ticket types: those first (lock order: types, then the event).
      if (resuming) {
        await tx.query(`SELECT 1 FROM event_tickets et JOIN events e ON e.id = et.event_id WHERE ${byIdOrSlug(idOrSlug)} ORDER BY et.id FOR NO KEY UPDATE OF et`, [idOrSlug]);
      }
      const { rows } = await tx.query<{ id: string }>(
        `UPDATE events e SET
           status            = coalesce($2, status),
           is_public         = coalesce($3, is_public),
           display_precision = coalesce($4, display_precision),
           updated_at        = now()
         WHERE ${byIdOrSlug(idOrSlug)} RETURNING id`,
        [idOrSlug, change.status ?? null, change.isPublic ?? null, change.displayPrecision ?? null],
      );
      if (!rows[0]) throw new InventoryError('event_not_found', 'Event not found');
      // Seats freed while the sale was stopped go to the waiting lists before anyone can hold them (docs/waiting-list.md), then watchers are told.
      if (resuming) await tx.query('SELECT event_sale_resumed($1)', [rows[0].id]);
      return rows[0].id;
    });
    this.onChange(id);
    return this.getEvent(id, { privileged: true });
  }

  /** Opens a non-public event to one user (idempotent). */
  async grantAccess(idOrSlug: string, userId: string): Promise<void> {
    const eventId = await this.resolveEventId(idOrSlug, { privileged: true });
    await this.db.query('INSERT INTO event_access (event_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [eventId, userId]);
  }

  /** Takes a grant back; the user's live subscriptions to the event end within a tick. */
  async revokeAccess(idOrSlug: string, userId: string): Promise<void> {
    const eventId = await this.resolveEventId(idOrSlug, { privileged: true });
    const { rowCount } = await this.db.query('DELETE FROM event_access WHERE event_id = $1 AND user_id = $2', [eventId, userId]);
    if (rowCount > 0) this.onChange(eventId);
  }

  /**
   * Capacity, status and per-order limit of a ticket type. Capacity may never
   * drop below what is sold or held; expired holds are released first so they
   * do not stand in the way.
   */
  async updateTicketType(id: string, change: TicketTypeChange): Promise<TicketType> {
    const setCapacity = change.totalCapacity !== undefined;
    const capacity = change.totalCapacity ?? null;
    if (setCapacity && capacity !== null) {
      await this.db.query('SELECT expire_ticket_reservations($1)', [id]);
    }
    const { rows } = await this.db.query<TicketTypeRow>(
      `UPDATE event_tickets SET
         total_capacity = CASE WHEN $2 THEN $3::integer ELSE total_capacity END,
         status         = coalesce($4, status),
         max_per_order  = coalesce($5, max_per_order),
         version        = version + 1,
         updated_at     = now()
       WHERE id = $1 AND (NOT $2 OR $3::integer IS NULL OR $3::integer >= sold_count + reserved_count)
       RETURNING *`,
      [id, setCapacity, capacity, change.status ?? null, change.maxPerOrder ?? null],
    );
    if (rows[0]) {
      this.onChange(rows[0].event_id);
      // RETURNING shows the row before the statement's offers to its waiting list (docs/waiting-list.md): read what they left.
      if (rows[0].waitlist_waiting === 0) return toTicketType(rows[0]);
      const after = await this.db.query<TicketTypeRow>('SELECT * FROM event_tickets WHERE id = $1', [id]);
      return toTicketType(after.rows[0]!);
    }
    const current = await this.db.query<{ committed: number }>(
      'SELECT sold_count + reserved_count AS committed FROM event_tickets WHERE id = $1',
      [id],
    );
    if (!current.rows[0]) throw new InventoryError('ticket_type_not_found', 'Ticket type not found');
    const committed = current.rows[0].committed;
    throw new InventoryError(
      'capacity_below_committed',
      `Capacity cannot go below the ${committed} seats already sold or held`,
      { committed },
    );
  }
}

async function insertTicketTypes(tx: Queryable, eventId: string, types: NewTicketType[]): Promise<void> {
  if (types.length === 0) return;
  // One statement for all types: the counters trigger then bumps the event's version once.
  await tx.query(
    `INSERT INTO event_tickets (event_id, name, description, price, currency, total_capacity,
                                max_per_order, low_stock_threshold, status, sort_order)
     SELECT $1, t.name, t.description, coalesce(t.price, 0), coalesce(t.currency, 'EUR'), t."totalCapacity",
            coalesce(t."maxPerOrder", 10), t."lowStockThreshold", coalesce(t.status, 'on_sale'),
            t."sortOrder"
     FROM jsonb_to_recordset($2::jsonb) AS t(name text, description text, price numeric, currency text,
          "totalCapacity" integer, "maxPerOrder" integer, "lowStockThreshold" integer, status text, "sortOrder" integer)`,
    // Listed order is the display order unless the organizer says otherwise.
    [eventId, JSON.stringify(types.map((t, index) => ({ ...t, sortOrder: t.sortOrder ?? index })))],
  );
}
