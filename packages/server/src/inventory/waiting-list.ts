import type { Waitlist, WaitlistEntry } from '@ticketpulse/protocol';
import type { Queryable } from '../db/database.ts';
import { isoTime } from '../iso-time.ts';
import type { Audience } from '../auth/principal.ts';
import type { AvailabilityListener, HolderListener } from './availability-listener.ts';
import { refusalsAsErrors } from './errors.ts';

export type { Waitlist, WaitlistEntry };

/** The organizer's settings of an event's lists, by their wire names (any subset). */
export interface WaitlistSettingsChange {
  enabled?: boolean;
  offerSeconds?: number;
}

/** waitlist_entry_json() (db/repeatable/75_waiting_list.sql): timestamps as PostgreSQL writes them. */
type EntryRow = WaitlistEntry;

const toEntry = (row: EntryRow): WaitlistEntry => ({
  ...row,
  joinedAt: isoTime(row.joinedAt),
  offer: row.offer && { ...row.offer, offeredAt: isoTime(row.offer.offeredAt), expiresAt: isoTime(row.offer.expiresAt) },
});

/**
 * The waiting lists of sold-out ticket types (docs/waiting-list.md). Buyers
 * join, read and leave their entries; organizers switch lists off and watch
 * them. The offers themselves are made by the database, in the statement
 * that frees the seats (waitlist_offer(), called by the counter trigger), so
 * nothing here makes one. Each call is one SQL function.
 */
export class WaitingList {
  constructor(
    private readonly db: Queryable,
    /** Told, after commit, of every event whose availability a call may have changed (expired holds released, an offer given back). */
    private readonly onChange: AvailabilityListener = () => {},
    /** Told, after commit, whose entry a call made or changed (their personal feed). */
    private readonly onHolderChange: HolderListener = () => {},
  ) {}

  /** Joins the line of a sold-out ticket type, or returns the holder's live entry there (created: false). */
  async join(ticketTypeId: string, holderId: string, audience: Audience, quantity: number): Promise<{ entry: WaitlistEntry; created: boolean }> {
    const { entry, created } = await this.call<{ entry: EntryRow; created: boolean }>('waitlist_join($1, $2, $3, $4, $5)', [
      ticketTypeId,
      holderId,
      audience.userId ?? null,
      audience.privileged,
      quantity,
    ]);
    this.onChange(entry.eventId);
    this.onHolderChange(holderId);
    return { entry: toEntry(entry), created };
  }

  /** The holder's entries, newest first. */
  async entriesOf(holderId: string): Promise<WaitlistEntry[]> {
    return (await this.call<EntryRow[]>('waitlist_entries_of($1)', [holderId])).map(toEntry);
  }

  /** Leaves a line; a live offer is given back. Another holder's entry is not found. */
  async leave(entryId: string, holderId: string): Promise<WaitlistEntry> {
    const entry = await this.call<EntryRow>('waitlist_leave($1, $2)', [entryId, holderId]);
    this.onChange(entry.eventId);
    this.onHolderChange(holderId);
    return toEntry(entry);
  }

  async read(eventRef: string): Promise<Waitlist> {
    return this.call<Waitlist>('waitlist_read($1)', [eventRef]);
  }

  async configure(eventRef: string, settings: WaitlistSettingsChange): Promise<Waitlist> {
    const waitlist = await this.call<Waitlist>('waitlist_configure($1, $2::jsonb)', [eventRef, JSON.stringify(settings)]);
    this.onChange(waitlist.eventId);
    return waitlist;
  }

  async configureTicketType(ticketTypeId: string, enabled: boolean): Promise<Waitlist> {
    const waitlist = await this.call<Waitlist>('waitlist_configure_type($1, $2)', [ticketTypeId, enabled]);
    this.onChange(waitlist.eventId);
    return waitlist;
  }

  private async call<Row>(fn: string, params: unknown[]): Promise<Row> {
    const { rows } = await refusalsAsErrors(this.db.query<{ r: Row }>(`SELECT ${fn} AS r`, params));
    return rows[0]!.r;
  }
}
