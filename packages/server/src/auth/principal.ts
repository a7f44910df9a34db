import type { z } from 'zod';
import { role } from '@ticketpulse/protocol/schemas';

/** The roles a token may carry (docs/api.md, Authentication): the wire's list, one home. */
export { role };

export type Role = z.infer<typeof role>;

/** Who is calling, from a verified token. */
export interface Principal {
  /** The `sub` claim; absent on anonymous tokens that carry no user. */
  userId: string | undefined;
  role: Role;
  /** When the token expires (ms since epoch). */
  expiresAt: number;
}

/**
 * Who is reading. Everyone sees public, non-draft events; organizers and the
 * service (privileged) see all; other users also see events that grant them.
 */
export interface Audience {
  privileged: boolean;
  userId?: string | undefined;
}

const PRIVILEGED: ReadonlySet<Role> = new Set(['organizer', 'service']);

export const isPrivileged = (principal: Principal | undefined): boolean =>
  principal !== undefined && PRIVILEGED.has(principal.role);

/** What this caller may see of events (see event_is_visible() in db/repeatable/20_availability.sql). */
export const audienceOf = (principal: Principal | undefined): Audience => ({
  privileged: isPrivileged(principal),
  userId: principal?.userId,
});
