/**
 * The personal feed: one user's own holds, offers and waiting-list entries,
 * over the realtime WebSocket (docs/protocol.md, "The personal feed").
 */

/**
 * How long before a hold's deadline it counts as expiring soon: the feed
 * sends `hold_expiring` then, and the SDK's countdown warns at the same time
 * by default.
 */
export const EXPIRING_SOON_SECONDS = 120;

/** A hold's status as the feed tells it: `expired` as soon as its deadline has passed, swept yet or not. */
export type PersonalHoldStatus = 'active' | 'confirmed' | 'released' | 'expired';

export interface PersonalHoldItem {
  ticketTypeId: string;
  ticketTypeName: string;
  quantity: number;
}

/** One of the user's holds (a reservation). The state lists active ones; a change may carry an ended one. */
export interface PersonalHold {
  reservationId: string;
  eventId: string;
  status: PersonalHoldStatus;
  expiresAt: string;
  /** Active and within EXPIRING_SOON_SECONDS of its deadline. */
  expiringSoon: boolean;
  extensionsUsed: number;
  items: PersonalHoldItem[];
  /** Set when the hold is a waiting-list offer: the entry it was offered to. */
  offer: { waitlistEntryId: string } | null;
}

/** The waiting-list entry statuses (docs/waiting-list.md); the state lists `waiting` and `offered` ones. */
export type PersonalWaitlistStatus = 'waiting' | 'offered' | 'purchased' | 'declined' | 'expired' | 'left' | 'closed';

/** One of the user's waiting-list entries (as GET /api/waitlist/me, without `place`, which moves with others). */
export interface PersonalWaitlistEntry {
  id: string;
  eventId: string;
  ticketTypeId: string;
  ticketTypeName: string;
  quantity: number;
  status: PersonalWaitlistStatus;
  joinedAt: string;
  offer: { reservationId: string; quantity: number; offeredAt: string; expiresAt: string } | null;
}

/** Everything live of one user: active holds (offers included) and entries waiting or with a running offer. */
export interface PersonalState {
  holds: PersonalHold[];
  waitlist: PersonalWaitlistEntry[];
}

/**
 * One change. A hold with status `active` is added or replaced; any other
 * status removes it. The same for entries: `waiting` and `offered` stay, the rest leave.
 */
export type PersonalChange =
  | { change: 'hold_created' | 'hold_extended' | 'hold_expiring' | 'hold_confirmed' | 'hold_released' | 'hold_expired'; hold: PersonalHold }
  | { change: 'waitlist_joined' | 'waitlist_offered' | 'waitlist_left' | 'waitlist_offer_ended'; entry: PersonalWaitlistEntry };

export type PersonalChangeKind = PersonalChange['change'];
