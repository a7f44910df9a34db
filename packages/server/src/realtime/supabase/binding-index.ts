import type { Binding } from './channel-join.ts';
import type { TableName } from '../../supabase/tables.ts';

export interface Subscription<C> {
  channel: C;
  binding: Binding;
}

interface TableIndex<C> {
  /** Bindings whose filter pins event_id, by event id. */
  byEvent: Map<string, Set<Subscription<C>>>;
  /** Bindings that may match a row of any event. */
  anyEvent: Set<Subscription<C>>;
}

/**
 * Every joined channel's bindings, by table and by the event they pin, so a
 * change is checked only against bindings that can match it: an on-sale's
 * crowd watching one event costs the other events nothing.
 */
export class BindingIndex<C extends { readonly bindings: readonly Binding[] }> {
  private readonly tables = new Map<TableName, TableIndex<C>>();
  private readonly subscriptions = new Map<C, Array<Subscription<C>>>();

  add(channel: C): void {
    const subscriptions = channel.bindings.map((binding) => ({ channel, binding }));
    this.subscriptions.set(channel, subscriptions);
    for (const s of subscriptions) {
      const index = this.table(s.binding.table);
      if (!s.binding.eventIds) index.anyEvent.add(s);
      for (const eventId of s.binding.eventIds ?? []) {
        let set = index.byEvent.get(eventId);
        if (!set) index.byEvent.set(eventId, (set = new Set()));
        set.add(s);
      }
    }
  }

  /** Returns whether the channel was indexed. */
  remove(channel: C): boolean {
    const subscriptions = this.subscriptions.get(channel);
    if (!subscriptions) return false;
    this.subscriptions.delete(channel);
    for (const s of subscriptions) {
      const index = this.table(s.binding.table);
      index.anyEvent.delete(s);
      for (const eventId of s.binding.eventIds ?? []) {
        const set = index.byEvent.get(eventId);
        set?.delete(s);
        if (set?.size === 0) index.byEvent.delete(eventId);
      }
    }
    return true;
  }

  /** The bindings a change to a row of `eventId` in `table` may match. */
  *candidates(table: TableName, eventId: string): Iterable<Subscription<C>> {
    const index = this.tables.get(table);
    if (!index) return;
    yield* index.anyEvent;
    yield* index.byEvent.get(eventId) ?? [];
  }

  /** The events bindings on `table` pin, and whether some binding may match any event. */
  watched(table: TableName): { eventIds: ReadonlySet<string>; anyEvent: boolean } {
    const index = this.tables.get(table);
    return { eventIds: new Set(index?.byEvent.keys()), anyEvent: (index?.anyEvent.size ?? 0) > 0 };
  }

  get size(): number {
    return this.subscriptions.size;
  }

  /** Every channel with bindings. */
  channels(): Iterable<C> {
    return this.subscriptions.keys();
  }

  private table(table: TableName): TableIndex<C> {
    let index = this.tables.get(table);
    if (!index) this.tables.set(table, (index = { byEvent: new Map(), anyEvent: new Set() }));
    return index;
  }
}
