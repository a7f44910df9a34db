import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { audienceParams } from '../../inventory/catalog.ts';
import { compileFilter, type RowPredicate } from '../../realtime/supabase/postgres-changes-filter.ts';
import { loadColumns, type Column, type Row } from '../../realtime/supabase/tables.ts';
import { audienceOf } from '../auth.ts';

/**
 * A read-only subset of PostgREST, so that the design's initial loads run
 * unchanged too: `supabase.from('ticket_availability_view').select('*')
 * .eq('event_id', id)`. Rows of events the caller may see (event_is_visible),
 * as the realtime endpoint sends them; `select=*` only; filters in the
 * realtime grammar (eq, neq, lt, lte, gt, gte, in). docs/supabase.md.
 */
const RELATIONS = {
  event_tickets: `SELECT to_jsonb(x) AS row FROM event_tickets x JOIN events e ON e.id = x.event_id
     WHERE event_is_visible(e, $1, $2) AND (x.status <> 'hidden' OR $2) AND ($3::uuid IS NULL OR x.event_id = $3)
     ORDER BY x.event_id, x.sort_order, x.id`,
  ticket_availability_view: `SELECT to_jsonb(x) AS row FROM ticket_availability_view x JOIN events e ON e.id = x.event_id
     WHERE event_is_visible(e, $1, $2) AND ($3::uuid IS NULL OR x.event_id = $3)
     ORDER BY x.event_id, x.sort_order, x.ticket_type_id`,
} as const;
type Relation = keyof typeof RELATIONS;
const NAMES = Object.keys(RELATIONS) as Relation[];

/** PostgREST's error body, which postgrest-js hands to the caller as `error`. */
const pgrstError = (code: string, message: string) => ({ code, message, details: null, hint: null });

export const supabaseRestRoutes: FastifyPluginAsyncZod<{ db: Database }> = async (app, { db }) => {
  let columns: Promise<Map<string, Column[]>> | undefined;

  app.get(
    '/rest/v1/:relation',
    {
      schema: {
        hide: true, // Supabase's API, not TicketPulse's: docs/supabase.md describes it
        params: z.object({ relation: z.string().max(100) }),
        querystring: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
      },
    },
    async (request, reply) => {
      const { relation } = request.params;
      if (!(NAMES as string[]).includes(relation)) {
        return reply.code(404).send(pgrstError('PGRST205', `Could not find the table 'public.${relation}' in the schema cache`));
      }
      const { select, ...filters } = request.query;
      if (select !== undefined && select !== '*') return reply.code(400).send(pgrstError('PGRST100', 'Only select=* is supported'));
      columns ??= loadColumns(db, NAMES);
      const relationColumns = (await columns).get(relation)!;
      const predicates: RowPredicate[] = [];
      let eventId: string | null = null;
      for (const [column, values] of Object.entries(filters)) {
        for (const value of Array.isArray(values) ? values : [values]) {
          const compiled = compileFilter(`${column}=${value}`, relationColumns);
          if (!compiled.ok) return reply.code(400).send(pgrstError('PGRST100', compiled.reason));
          predicates.push(compiled.predicate);
          // An eq on event_id narrows the query itself; everything is also checked in memory.
          const pin = compiled.conditions[0];
          if (pin?.column === 'event_id' && pin.operator === 'eq') eventId = pin.values[0]!;
        }
      }
      const { rows } = await db.query<{ row: Row }>(RELATIONS[relation as Relation], [...audienceParams(audienceOf(request.principal)), eventId]);
      return rows.map((r) => r.row).filter((row) => predicates.every((matches) => matches(row)));
    },
  );
};
