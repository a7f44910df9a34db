import type { Principal } from '../../auth/principal.ts';
import type { BindingIndex } from './binding-index.ts';
import type { Binding } from './channel-join.ts';
import { PERSONAL_COLUMNS, present, type EventAccess, type RowView } from './row-access.ts';
import { subjectOf, type RowChange } from './row-changes.ts';
import type { Row, TableColumns, TableName } from '../../supabase/tables.ts';

export interface RoutedChannel {
  readonly bindings: readonly Binding[];
  readonly principal: Principal;
  sendChange(ids: readonly number[], dataJson: string): void;
}

/** A change as one view of it is sent: the row filters see, and the serialized `data`. */
interface Presented {
  subject: Row;
  dataJson: string;
}

/**
 * Delivers a tick's changes: each change is checked, in memory, against the
 * bindings that can match it (BindingIndex), with what the channel's token
 * may see of the row (EventAccess); each channel gets one message per change
 * listing all of its bindings that match. `data` is serialized once per
 * change and view, not once per subscriber.
 */
export class ChangeRouter<C extends RoutedChannel> {
  private readonly columnsJson: Record<TableName, Record<Exclude<RowView, 'none'>, string>>;

  constructor(columns: TableColumns) {
    const json = (table: TableName, view: Exclude<RowView, 'none'>) =>
      JSON.stringify(columns[table].filter((c) => view === 'whole' || !PERSONAL_COLUMNS[table].includes(c.name)));
    this.columnsJson = {
      event_tickets: { whole: json('event_tickets', 'whole'), public: json('event_tickets', 'public') },
      tickets: { whole: json('tickets', 'whole'), public: json('tickets', 'public') },
    };
  }

  /** Sends `changes` in order; returns how many messages went out. */
  route(changes: readonly RowChange[], index: BindingIndex<C>, access: EventAccess): number {
    let sent = 0;
    for (const change of changes) {
      const subject = subjectOf(change);
      const presented = new Map<RowView, Presented>();
      const matches = new Map<C, { ids: number[]; shown: Presented }>();
      for (const { channel, binding } of index.candidates(change.table, String(subject.event_id))) {
        if (binding.event !== '*' && binding.event !== change.type) continue;
        const view = access.view(change.table, subject, channel.principal);
        if (view === 'none') continue;
        let shown = presented.get(view);
        if (!shown) presented.set(view, (shown = this.present(change, view)));
        if (!binding.predicate(shown.subject)) continue;
        const match = matches.get(channel);
        if (match) match.ids.push(binding.id);
        else matches.set(channel, { ids: [binding.id], shown });
      }
      for (const [channel, { ids, shown }] of matches) channel.sendChange(ids, shown.dataJson);
      sent += matches.size;
    }
    return sent;
  }

  private present(change: RowChange, view: Exclude<RowView, 'none'>): Presented {
    const show = (row: Row | null) => (row ? present(change.table, row, view) : null);
    const record = show(change.record);
    const oldRecord = show(change.oldRecord);
    const dataJson =
      `{"schema":"public","table":"${change.table}","commit_timestamp":${JSON.stringify(change.commitTimestamp)},` +
      `"type":"${change.type}","columns":${this.columnsJson[change.table][view]},` +
      `"record":${JSON.stringify(record)},"old_record":${JSON.stringify(oldRecord)},"errors":null}`;
    return { subject: (record ?? oldRecord)!, dataJson };
  }
}
