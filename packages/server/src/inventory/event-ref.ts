import type { Queryable } from '../db/database.ts';

/** Callers address an event by its id (a UUID, in any case) or by its slug. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** SQL condition and parameter for an event addressed by id or by slug. */
export const byIdOrSlug = (idOrSlug: string): string => (UUID.test(idOrSlug) ? 'e.id = $1' : 'e.slug = $1');

/**
 * The event id behind a reference, so that one event is one key wherever a
 * caller wrote its slug, its id, or its id in capitals (group commit keeps
 * one queue per key). Slugs never change, so each is looked up once per
 * process. Visibility is not decided here: whoever uses the id still checks
 * it, so an unknown slug stays as written and is refused there.
 */
export class EventIds {
  private readonly bySlug = new Map<string, string>();

  constructor(private readonly db: Queryable) {}

  async of(idOrSlug: string): Promise<string> {
    if (UUID.test(idOrSlug)) return idOrSlug.toLowerCase();
    const known = this.bySlug.get(idOrSlug);
    if (known) return known;
    const { rows } = await this.db.query<{ id: string }>('SELECT id FROM events WHERE slug = $1', [idOrSlug]);
    const id = rows[0]?.id;
    if (id === undefined) return idOrSlug;
    this.bySlug.set(idOrSlug, id);
    return id;
  }
}
