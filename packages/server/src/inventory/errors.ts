import { isDatabaseError } from '../db/database.ts';

/** Every way the inventory refuses a request. The HTTP layer maps each to a status. */
export const inventoryErrorCodes = [
  'event_not_found',
  'event_not_on_sale',
  'event_slug_taken',
  'ticket_type_not_found',
  'unknown_ticket_type',
  'ticket_type_not_on_sale',
  'quantity_above_max_per_order',
  'insufficient_availability',
  'idempotency_key_reused',
  'reservation_not_found',
  'reservation_confirmed',
  'hold_expired',
  'extension_limit_reached',
  'capacity_below_committed',
  // The waiting room (db/repeatable/70_waiting_room.sql, and reserve_holds on a queued event).
  'queue_not_found',
  'queue_not_open_yet',
  'queue_entry_not_found',
  'queue_pass_required',
  'queue_pass_expired',
  'queue_one_hold_at_a_time',
  // The waiting list (db/repeatable/75_waiting_list.sql).
  'waitlist_seats_available',
  'waitlist_closed',
  'waitlist_entry_not_found',
  // "Notify me" (db/repeatable/80_push.sql).
  'push_watch_seats_available',
] as const;

export type InventoryErrorCode = (typeof inventoryErrorCodes)[number];

export class InventoryError extends Error {
  constructor(
    readonly code: InventoryErrorCode,
    message: string,
    /** Extra machine-readable fields, such as `ticketTypeId` and `available`. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'InventoryError';
  }
}

/** SQLSTATE the hold functions raise their refusals with (see raise_inventory_error, db/repeatable/30_reservations.sql). */
const INVENTORY_SQLSTATE = 'TP000';

function isInventoryErrorCode(code: unknown): code is InventoryErrorCode {
  return (inventoryErrorCodes as readonly unknown[]).includes(code);
}

/** A refusal as a batch function (reserve_holds, queue_join_batch) answers it for one request, instead of raising it. */
export interface Refusal {
  error: { message: string; detail: Record<string, unknown> };
}

/**
 * A refusal as the SQL functions describe it (message, and a detail with its
 * code), as an InventoryError; an unknown code is a bug, so a plain Error.
 */
export function refusal(message: string, detail: Record<string, unknown>): Error {
  const { code, ...details } = detail;
  return isInventoryErrorCode(code) ? new InventoryError(code, message, details) : new Error(`${message} (${String(code)})`);
}

/** Turns a refusal raised in SQL into an InventoryError; anything else is returned unchanged. */
export function translateDatabaseError(error: unknown): unknown {
  if (!isDatabaseError(error) || error.code !== INVENTORY_SQLSTATE || !error.detail) return error;
  const translated = refusal(error.message, JSON.parse(error.detail) as Record<string, unknown>);
  return translated instanceof InventoryError ? translated : error;
}

/** Runs a database call, surfacing SQL refusals as InventoryErrors. */
export async function refusalsAsErrors<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw translateDatabaseError(error);
  }
}
