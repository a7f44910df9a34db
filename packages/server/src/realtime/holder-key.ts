import { createHash } from 'node:crypto';

/**
 * What the bus carries to say a user's personal feed changed: 16 hex
 * characters of the SHA-256 of their `sub`, not the `sub` itself, so the
 * signal (which any database role may LISTEN to) names nobody, and its size
 * is fixed whatever a `sub` looks like. A node matches it against the users
 * subscribed there; a collision only costs one needless read.
 */
export function holderKey(holderId: string): string {
  return createHash('sha256').update(holderId).digest('hex').slice(0, 16);
}
