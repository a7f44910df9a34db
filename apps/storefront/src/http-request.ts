export interface HttpRequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A failed request, with the server's stable `code` and its human `message` (docs/api.md, Errors). */
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
}

const NETWORK_MESSAGE = "Can't reach the ticket server. Check your connection; we'll keep trying.";

/** Messages for the codes a person can act on; anything else shows the server's own message. */
const FRIENDLY: Record<string, string> = {
  unauthorized: 'Please sign in first.',
  forbidden: 'This needs an organizer sign-in.',
  token_expired: 'Your session expired. Please sign in again.',
  database_unavailable: 'The ticket server is briefly unavailable. Please retry in a moment.',
  shutting_down: 'The ticket server is restarting. Please retry in a moment.',
  internal_error: 'Something went wrong on our side. Please retry.',
};

/** A refusal decided here rather than by the server (no token yet), worded as the server's would be. */
export const refusedHere = (code: string, status: number): ApiError => new ApiError(code, FRIENDLY[code] ?? code, status);

/** One JSON request over fetch, same origin, with a bearer token if given; errors become ApiError. */
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
    throw new ApiError('network_error', NETWORK_MESSAGE, 0);
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML error page: mapped below.
  }
  if (response.ok) return parsed as T;
  const error = (parsed as { error?: { code?: string; message?: string } & Record<string, unknown> } | null)?.error;
  const code = error?.code ?? (response.status >= 500 ? 'network_error' : 'request_failed');
  const message = FRIENDLY[code] ?? error?.message ?? (response.status >= 500 ? NETWORK_MESSAGE : `Request failed (HTTP ${response.status})`);
  throw new ApiError(code, message, response.status, error ?? {});
}
