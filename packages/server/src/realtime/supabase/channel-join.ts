import { z } from 'zod';
import { compileFilter, type RowPredicate } from '../../supabase/postgres-changes-filter.ts';
import { CHANGE_TYPES, type ChangeType } from './row-changes.ts';
import { isTableName, TABLES, type TableColumns, type TableName } from '../../supabase/tables.ts';

/** One `postgres_changes` entry of a joined channel, compiled. */
export interface Binding {
  /** The id echoed in the join reply; change messages list the ids of the bindings they match. */
  id: number;
  table: TableName;
  event: ChangeType | '*';
  predicate: RowPredicate;
  /** The events the filter pins `event_id` to (eq or in); undefined when it may match any event. */
  eventIds: readonly string[] | undefined;
}

export type JoinRequest =
  | {
      ok: true;
      bindings: Binding[];
      /** The reply's `postgres_changes`: each entry as sent, in order, plus its id; undefined when the join asked for none. */
      echo: Array<Record<string, unknown>> | undefined;
      accessToken: string | undefined;
    }
  | { ok: false; reason: string };

const entrySchema = z.looseObject({
  event: z.string(),
  schema: z.string(),
  table: z.string().nullish(),
  filter: z.string().max(4096).nullish(),
  select: z.unknown().optional(),
});

/** Unknown keys are kept (and ignored): clients add some, e.g. `version` beside `access_token`. */
const joinSchema = z.looseObject({
  config: z.looseObject({ postgres_changes: z.array(z.looseObject({})).max(100).optional() }).optional(),
  access_token: z.string().max(8192).nullish(),
});

/** Validates a phx_join payload and compiles its postgres_changes bindings. */
export function parseJoin(payload: Record<string, unknown>, columns: TableColumns, nextId: () => number): JoinRequest {
  const parsed = joinSchema.safeParse(payload);
  if (!parsed.success) return { ok: false, reason: `Invalid join payload: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  const entries = parsed.data.config?.postgres_changes;
  const accessToken = parsed.data.access_token ?? undefined;
  if (entries === undefined) return { ok: true, bindings: [], echo: undefined, accessToken };
  const bindings: Binding[] = [];
  const echo: Array<Record<string, unknown>> = [];
  for (const raw of entries) {
    const compiled = compileBinding(raw, columns, nextId);
    if (!compiled.ok) return compiled;
    bindings.push(compiled.binding);
    echo.push({ ...raw, id: compiled.binding.id });
  }
  return { ok: true, bindings, echo, accessToken };
}

function compileBinding(raw: Record<string, unknown>, columns: TableColumns, nextId: () => number): { ok: true; binding: Binding } | { ok: false; reason: string } {
  const entry = entrySchema.safeParse(raw);
  if (!entry.success) return { ok: false, reason: 'Each postgres_changes entry needs event and schema (strings), and may have table and filter' };
  const { event, schema, table, filter, select } = entry.data;
  if (event !== '*' && !(CHANGE_TYPES as readonly string[]).includes(event)) {
    return { ok: false, reason: `Unknown event "${event}": use INSERT, UPDATE, DELETE or *` };
  }
  if (schema !== 'public') return { ok: false, reason: `Schema "${schema}" is not available: TicketPulse streams schema public` };
  if (!table || !isTableName(table)) {
    return { ok: false, reason: `Table "${table ?? ''}" is not available: TicketPulse streams ${TABLES.join(' and ')}` };
  }
  if (select !== undefined) return { ok: false, reason: 'select is not supported: change messages carry whole rows' };
  const compiled = compileFilter(filter, columns[table]);
  if (!compiled.ok) return compiled;
  const pin = compiled.conditions.find((c) => c.column === 'event_id' && (c.operator === 'eq' || c.operator === 'in'));
  return {
    ok: true,
    binding: {
      id: nextId(),
      table,
      event: event as ChangeType | '*',
      predicate: compiled.predicate,
      eventIds: pin?.values.map((v) => v.toLowerCase()),
    },
  };
}
