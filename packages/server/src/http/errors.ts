import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isDatabaseError } from '../db/database.ts';
import { ApiError, errorBody } from '../api-error.ts';
import { InventoryError, type InventoryErrorCode } from '../inventory/errors.ts';
import { isPostgrestPath, sendPostgrestError } from './postgrest-errors.ts';

const inventoryStatus: Record<InventoryErrorCode, number> = {
  event_not_found: 404,
  ticket_type_not_found: 404,
  reservation_not_found: 404,
  unknown_ticket_type: 422,
  quantity_above_max_per_order: 422,
  idempotency_key_reused: 422,
  event_not_on_sale: 409,
  event_slug_taken: 409,
  ticket_type_not_on_sale: 409,
  insufficient_availability: 409,
  reservation_confirmed: 409,
  hold_expired: 409,
  extension_limit_reached: 409,
  capacity_below_committed: 409,
  queue_not_found: 404,
  queue_not_open_yet: 409,
  queue_entry_not_found: 404,
  queue_pass_required: 403,
  queue_pass_expired: 403,
  queue_one_hold_at_a_time: 409,
  waitlist_seats_available: 409,
  waitlist_closed: 409,
  waitlist_entry_not_found: 404,
  push_watch_seats_available: 409,
};

/** Fastify's own request errors, by their FST_ codes. */
const fastifyErrors: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json', 'Request body is not valid JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json', 'Request body is empty but Content-Type is application/json'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large', 'Request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'Send JSON with Content-Type: application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_request', 'Content-Length does not match the body'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'uri_too_long', 'A path segment is too long'],
  FST_ERR_BAD_URL: [400, 'invalid_request', 'The URL is malformed'],
};

/** SQLSTATE classes and client errors that mean "the database is not reachable right now". */
function isDatabaseUnavailable(error: unknown): boolean {
  if (isDatabaseError(error)) {
    return /^(08|57P0|53)/.test(error.code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(error.code);
  }
  return (
    error instanceof Error &&
    /Connection terminated|connection timeout|Client has encountered a connection error|Query read timeout|timeout exceeded when trying to connect/i.test(error.message)
  );
}

export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof InventoryError) return new ApiError(inventoryStatus[error.code], error.code, error.message, error.details);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      path: [error.validationContext, ...v.instancePath.split('/').filter(Boolean)].join('.'),
      message: v.message,
    }));
    const first = issues[0];
    return new ApiError(400, 'invalid_request', first ? `${first.path}: ${first.message}` : 'Invalid request', { issues });
  }
  const known = fastifyErrors[(error as FastifyError).code];
  if (known) return new ApiError(known[0], known[1], known[2]);
  if (isDatabaseUnavailable(error)) {
    return new ApiError(503, 'database_unavailable', 'The database is unavailable; retry shortly', { retryAfterSeconds: 1 });
  }
  const status = (error as FastifyError).statusCode;
  // Any other 4xx Fastify raises about the request itself.
  if (status !== undefined && status >= 400 && status < 500) {
    return new ApiError(status, 'invalid_request', (error as Error).message);
  }
  return undefined;
}

/** The one place errors leave: `{error: {code, message, ...}}`, or PostgREST's shape under /rest/v1/. */
export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  if (error.statusCode === 503 || error.statusCode === 429) reply.header('retry-after', String(error.details.retryAfterSeconds ?? 1));
  if (isPostgrestPath(reply.request.url)) return sendPostgrestError(reply, error);
  return reply.code(error.statusCode).send(errorBody(error));
}

/** Every error leaves through sendError; never a stack trace. */
export function replyWithError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const apiError = toApiError(error);
  if (apiError) return sendError(reply, apiError);
  request.log.error({ err: error }, 'unhandled error');
  return sendError(reply, new ApiError(500, 'internal_error', 'Something went wrong on our side'));
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(replyWithError);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new ApiError(404, 'not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}
