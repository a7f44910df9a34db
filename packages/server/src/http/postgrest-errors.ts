import type { FastifyReply } from 'fastify';
import type { ApiError } from '../api-error.ts';

/**
 * Errors under /rest/v1/, the PostgREST subset, in PostgREST's shape
 * `{code, message, details, hint}`: supabase-js hands that body to the caller
 * as `error`, and reads nothing from the service's own `{error: {code}}`.
 * The mapping is documented in docs/supabase.md#errors-of-the-postgrest-subset.
 */

export const POSTGREST_PREFIX = '/rest/v1';

export function isPostgrestPath(url: string): boolean {
  const path = url.split('?', 1)[0]!;
  return path === POSTGREST_PREFIX || path.startsWith(`${POSTGREST_PREFIX}/`);
}

/**
 * The service's own codes that reach /rest/v1/ (from the rate limits,
 * authentication, Fastify's URL checks, the database), in PostgREST's terms.
 * Routes under /rest/v1/ raise PostgREST codes themselves (PGRST…), which
 * pass as they are. No body is ever parsed there (writes are refused first),
 * so body errors have no entry.
 */
const POSTGREST_CODES: Readonly<Record<string, string>> = {
  invalid_request: 'PGRST100',
  invalid_token: 'PGRST301',
  token_expired: 'PGRST303',
  database_unavailable: 'PGRST000',
  internal_error: 'PGRSTX00',
};

/**
 * PostgREST has no code of its own for some statuses (414, 429, a draining
 * node's 503): those get `PT` + the status, the form PostgREST itself gives a
 * custom status raised from SQL (`RAISE SQLSTATE 'PT429'`).
 */
export function postgrestCode(error: ApiError): string {
  if (error.code.startsWith('PGRST')) return error.code;
  return POSTGREST_CODES[error.code] ?? `PT${error.statusCode}`;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export function sendPostgrestError(reply: FastifyReply, error: ApiError): FastifyReply {
  // As PostgREST answers a bad JWT (RFC 6750), so clients can tell why without parsing the body.
  if (error.statusCode === 401) reply.header('www-authenticate', `Bearer error="invalid_token", error_description=${JSON.stringify(error.message)}`);
  if (typeof error.details.allow === 'string') reply.header('allow', error.details.allow);
  return reply.code(error.statusCode).send({ code: postgrestCode(error), message: error.message, details: text(error.details.details), hint: text(error.details.hint) });
}
