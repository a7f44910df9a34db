import type { ErrorBody } from '@ticketpulse/protocol';

/**
 * A failed API call, as every part of the SDK (and the storefront) reports
 * it: the API's stable `code` (docs/api.md, Error codes), its human
 * `message`, the HTTP `status` (0 when the server could not be reached) and
 * the extra fields of the error body as `details`.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /**
   * Asking again may succeed: the server could not be reached (`network_error`),
   * was too busy for this caller (429 `rate_limited`) or briefly unavailable (503).
   * Any other answer would be the same next time.
   */
  get retryable(): boolean {
    return this.code === 'network_error' || this.status === 429 || this.status === 503;
  }

  /**
   * The error an HTTP answer carries: its `{error: {code, message, ...details}}`
   * body, or, without one, `network_error` for a 5xx (a proxy's error page)
   * and `request_failed` otherwise. A `Retry-After` header becomes `details.retryAfterSeconds`.
   */
  static from(status: number, body: unknown, retryAfter?: string | null): ApiError {
    const { code, message, ...details }: Partial<ErrorBody['error']> = (body as Partial<ErrorBody> | null)?.error ?? {};
    if (retryAfter) details.retryAfterSeconds ??= Number(retryAfter);
    return new ApiError(code ?? (status >= 500 ? 'network_error' : 'request_failed'), message ?? `Request failed (HTTP ${status})`, status, details);
  }
}
