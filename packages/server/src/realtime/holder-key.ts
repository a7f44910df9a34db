import { hash } from 'node:crypto';

/**
 * What the bus carries to say a user's personal feed changed: 16 hex
 * characters of the SHA-256 of their `sub`, not the `sub` itself, so the
 * signal (which any database role may LISTEN to) names nobody outright, and
 * its size is fixed whatever a `sub` looks like. A node matches it against
 * the users subscribed there; a collision only costs one needless read.
 * One-shot `hash()`: a few microseconds per distinct holder per tick.
 */
export function holderKey(holderId: string): string {
  return hash('sha256', holderId).slice(0, 16);
}
