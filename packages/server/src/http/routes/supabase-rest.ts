import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { audienceParams } from '../../inventory/catalog.ts';
import { compileParameter, type RowPredicate } from '../../supabase/postgres-changes-filter.ts';
import { loadColumns, type Column, type Row } from '../../supabase/tables.ts';
import { audienceOf } from '../../auth/principal.ts';
import { ApiError } from '../../api-error.ts';
import { sendError } from '../errors.ts';

/**
 * A read-only subset of PostgREST, so that the design's initial loads run
 * unchanged too: `supabase.from('ticket_availability_view').select('*')
 * .eq('event_id', id)`. Rows of events the caller may see (event_is_visible),
 * as the realtime endpoint sends them; `select=*` only; filters as PostgREST
 * reads them, with the realtime endpoint's operators (eq, neq, lt, lte, gt,
 * gte, in). Every answer under /rest/v1/, errors included, is PostgREST's
 * (postgrest-errors.ts). docs/supabase.md.
 */
const RELATIONS = {
  event_tickets: `SELECT to_jsonb(x) AS row FROM event_tickets x JOIN events e ON e.id = x.event_id
     WHERE event_is_visible(e, $1, $2) AND (x.status <> 'hidden' OR $2) AND ($3::uuid IS NULL OR x.event_id = $3)
     ORDER BY x.event_id, x.sort_order, x.name COLLATE "C", x.id`,
  ticket_availability_view: `SELECT to_jsonb(x) AS row FROM ticket_availability_view x JOIN events e ON e.id = x.event_id
     WHERE event_is_visible(e, $1, $2) AND ($3::uuid IS NULL OR x.event_id = $3)
     ORDER BY x.event_id, x.sort_order, x.ticket_type_name COLLATE "C", x.ticket_type_id`,
} as const;
type Relation = keyof typeof RELATIONS;
const NAMES = Object.keys(RELATIONS) as Relation[];
const isRelation = (name: string): name is Relation => (NAMES as string[]).includes(name);

/** PostgREST's query parameters that are not filters; the subset has none of them but `select=*`. */
const NOT_FILTERS = new Set(['order', 'limit', 'offset', 'or', 'and', 'not', 'on_conflict', 'columns']);

const refuse = (status: number, code: string, message: string, extra: Record<string, string> = {}) => new ApiError(status, code, message, extra);

/**
 * What a path under /rest/v1/ that no read answers gets: PostgREST's answer
 * for it (an unknown table, function or path), or 405 for a write to a table,
 * since the subset is read-only.
 */
function pathError(method: string, segments: readonly string[]): ApiError {
  const [first = '', second, ...rest] = segments;
  if (segments.length <= 1 && first === '') return refuse(404, 'PGRST126', 'Root endpoint metadata is disabled');
  if (first === 'rpc' && second !== undefined && rest.length === 0) {
    return refuse(404, 'PGRST202', `Could not find the function public.${second} without parameters in the schema cache`, {
      hint: 'TicketPulse serves no functions over PostgREST',
    });
  }
  if (segments.length > 1) return refuse(404, 'PGRST125', 'Invalid path specified in request URL');
  if (!isRelation(first)) {
    return refuse(404, 'PGRST205', `Could not find the table 'public.${first}' in the schema cache`, { hint: `TicketPulse serves ${NAMES.join(' and ')}` });
  }
  return refuse(405, 'PGRST117', `Unsupported HTTP method: ${method}`, { allow: 'GET, HEAD', hint: 'TicketPulse serves reads only: GET and HEAD' });
}

/** pathError for a request's URL: its segments after /rest/v1/, decoded. */
function refusalFor(method: string, url: string): ApiError {
  const path = url.split('?', 1)[0]!.slice('/rest/v1/'.length);
  try {
    return pathError(method, path.split('/').map(decodeURIComponent));
  } catch {
    return refuse(404, 'PGRST125', 'Invalid path specified in request URL');
  }
}

/** Media types a JSON array answers; `.single()` (vnd.pgrst.object) and `.csv()` are not served. */
const JSON_ARRAY = new Set(['*/*', 'application/*', 'application/json', 'application/vnd.pgrst.array+json']);

function acceptsJsonArray(accept: string): boolean {
  return accept.split(',').some((range) => {
    const [type = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    // nulls=stripped asks for rows without their null columns, which the subset does not do.
    return JSON_ARRAY.has(type) && !params.includes('nulls=stripped');
  });
}

/** The query's filters, compiled; PostgREST's PGRST100 for anything the subset does not read. */
function compileQuery(query: URLSearchParams, columns: readonly Column[]): { predicates: RowPredicate[]; eventId: string | null } {
  const predicates: RowPredicate[] = [];
  let eventId: string | null = null;
  for (const [name, value] of query) {
    if (name === 'select') {
      if (value !== '*') throw refuse(400, 'PGRST100', 'Only select=* is supported');
      continue;
    }
    if (NOT_FILTERS.has(name)) throw refuse(400, 'PGRST100', `"${name}" is not supported: TicketPulse's PostgREST subset takes filters and select=* only`);
    const compiled = compileParameter(name, value, columns);
    if (!compiled.ok) throw refuse(400, 'PGRST100', compiled.reason);
    predicates.push(compiled.predicate);
    // An eq on event_id narrows the query itself; everything is also checked in memory.
    const pin = compiled.conditions[0]!;
    if (pin.column === 'event_id' && pin.operator === 'eq') eventId = pin.values[0]!;
  }
  return { predicates, eventId };
}

export const supabaseRestRoutes: FastifyPluginAsyncZod<{ db: Database }> = async (app, { db }) => {
  let columns: Promise<Map<string, Column[]>> | undefined;

  // Writes are refused before their bodies are read (supabase-js's delete() sends an empty JSON body).
  app.addHook('onRequest', async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') throw refusalFor(request.method, request.url);
  });
  // Reads of anything else under /rest/v1/.
  app.setNotFoundHandler((request, reply) => sendError(reply, refusalFor(request.method, request.url)));

  app.get(
    '/:relation',
    {
      schema: {
        hide: true, // Supabase's API, not TicketPulse's: docs/supabase.md describes it
        params: z.object({ relation: z.string() }),
      },
    },
    async (request) => {
      const { relation } = request.params;
      if (!isRelation(relation)) throw pathError(request.method, [relation]);
      const profile = request.headers['accept-profile'];
      if (profile !== undefined && profile !== 'public') {
        throw refuse(406, 'PGRST106', `Invalid schema: ${String(profile)}`, { hint: 'Only the following schemas are exposed: public' });
      }
      const accept = request.headers.accept;
      if (accept !== undefined && accept !== '' && !acceptsJsonArray(accept)) throw refuse(406, 'PGRST107', `None of these media types are available: ${accept}`);
      // The raw query, not Fastify's parsed object: every parameter in order, `__proto__` included.
      const query = new URLSearchParams(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '');
      columns ??= loadColumns(db, NAMES);
      const { predicates, eventId } = compileQuery(query, (await columns).get(relation)!);
      const { rows } = await db.query<{ row: Row }>(RELATIONS[relation], [...audienceParams(audienceOf(request.principal)), eventId]);
      return rows.map((r) => r.row).filter((row) => predicates.every((matches) => matches(row)));
    },
  );
};
