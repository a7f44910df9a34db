import type { ErrorBody } from '@ticketpulse/protocol';

/** An error with an HTTP status and a documented code (docs/api.md). */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The API's error body, `{error: {code, message, ...details}}` (docs/api.md, Errors), for HTTP answers and refused WebSocket upgrades alike. */
export function errorBody(error: ApiError): ErrorBody {
  return { error: { code: error.code, message: error.message, ...error.details } };
}
