import { ApiError } from '@ticketpulse/client';

export interface HttpRequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const NETWORK_MESSAGE = "Can't reach the ticket server. Check your connection; we'll keep trying.";

/** Messages for the codes a person can act on; anything else shows the server's own message. */
const FRIENDLY: Record<string, string> = {
  network_error: NETWORK_MESSAGE,
  unauthorized: 'Please sign in first.',
  forbidden: 'This needs an organizer sign-in.',
  token_expired: 'Your session expired. Please sign in again.',
  database_unavailable: 'The ticket server is briefly unavailable. Please retry in a moment.',
  shutting_down: 'The ticket server is restarting. Please retry in a moment.',
  internal_error: 'Something went wrong on our side. Please retry.',
  queue_not_open_yet: 'The waiting room does not take people in yet. Come back closer to the opening time.',
  queue_pass_required: 'Wait for your turn in the waiting room before holding tickets.',
  queue_pass_expired: 'Your turn in the waiting room has ended. Join the line again to buy.',
};

/** A failure as the shop shows it: an ApiError (the SDK's one class), in friendly words where a person can act on its code. */
export function shown(error: unknown): ApiError {
  if (!(error instanceof ApiError)) return new ApiError('unexpected', error instanceof Error ? error.message : String(error), 0);
  const friendly = FRIENDLY[error.code];
  return friendly ? new ApiError(error.code, friendly, error.status, error.details) : error;
}

const CLICK_NETWORK_MESSAGE = "Can't reach the ticket server. Check your connection, then try again.";

/**
 * A failed click (hold, buy, extend, release, join or leave a waiting list)
 * as shown: as `shown`, except that a network error asks for another try,
 * since nothing repeats a click on its own (reads are polled; these are not).
 */
export function shownAfterClick(error: unknown): ApiError {
  const failure = shown(error);
  return failure.code === 'network_error' ? new ApiError(failure.code, CLICK_NETWORK_MESSAGE, failure.status, failure.details) : failure;
}

/** A refusal decided here rather than by the server (no token yet), worded as the server's would be. */
export const refusedHere = (code: string, status: number): ApiError => shown(new ApiError(code, code, status));

/** One JSON request over fetch, same origin, with a bearer token if given; errors become ApiError (shown). */
export async function httpRequest<T>(path: string, options: HttpRequestOptions, token: string | null = null): Promise<T> {
  const { method = 'GET', body, signal } = options;
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (token) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body), signal: signal ?? null });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw shown(new ApiError('network_error', NETWORK_MESSAGE, 0));
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML error page: ApiError.from maps it.
  }
  if (response.ok) return parsed as T;
  throw shown(ApiError.from(response.status, parsed));
}
