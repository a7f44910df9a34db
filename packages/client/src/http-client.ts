import { ApiError } from './api-error.ts';
import { retrySchedule, type RetryOptions } from './retry-policy.ts';
import type { ServerClock } from './server-clock.ts';
import type { FetchLike } from './types.ts';

export interface HttpClientOptions {
  /** The service's base URL, e.g. https://tickets.example.com. */
  url: string;
  /** A JWT, or a promise of one; asked for on every attempt. */
  getToken: () => string | Promise<string>;
  fetch?: FetchLike;
  /** The server's clock, corrected by each answer's Date header; share TicketAvailabilityManager's `clock` so both agree. */
  clock?: Pick<ServerClock, 'now' | 'observe'>;
  retry?: RetryOptions;
  /** For tests: the random source of the retries' jitter. */
  random?: () => number;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  /** Sent on every attempt of this request, so the server acts on it once. */
  idempotencyKey?: string;
  /** More headers, sent on every attempt. */
  headers?: Record<string, string>;
  /** The server does it once however often it is sent: GET and DELETE always are; a POST says so here (confirming twice). Retried like a request with a key. */
  idempotent?: boolean;
}

/** Sends one logical request, retried by the retry policy; resolves with the answer's JSON body. */
export type SendRequest = <T>(request: HttpRequest) => Promise<T>;

/** The given fetch, else the platform's. */
export function findFetch(fetch: FetchLike | undefined): FetchLike {
  const found = fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
  if (!found) throw new Error('No fetch here: pass one in options');
  return found;
}

/** JSON requests to the API with a bearer token; every failure is an ApiError. */
export function httpClient(options: HttpClientOptions): SendRequest {
  const fetchImpl = findFetch(options.fetch);
  const base = options.url.replace(/\/+$/, '');

  /**
   * The Date header has whole seconds: the server's time was somewhere in
   * [date, date + 1 s). A finer offset (the gateway's serverTime) that agrees
   * is kept; one that does not is replaced by the middle of that second.
   */
  const observeDate = (date: number) => {
    const now = options.clock?.now() ?? date;
    if (now < date || now >= date + 1000) options.clock?.observe(date + 500);
  };

  const send = async <T>({ method, path, body, idempotencyKey, headers: extra }: HttpRequest): Promise<T> => {
    const headers: Record<string, string> = { ...extra, authorization: `Bearer ${await options.getToken()}` };
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const json = body === undefined ? undefined : JSON.stringify(body);
    if (json) headers['content-type'] = 'application/json';
    let response: Awaited<ReturnType<FetchLike>>;
    try {
      // Called unbound: a browser's fetch throws "Illegal invocation" when called as a method of anything else.
      response = await fetchImpl(base + path, { method, headers, body: json });
    } catch (cause) {
      throw new ApiError('network_error', `Could not reach ${base}: ${cause}`, 0);
    }
    observeDate(Date.parse(response.headers.get('date') ?? ''));
    const parsed: unknown = await response.json().catch(() => null);
    if (response.ok) return parsed as T;
    throw ApiError.from(response.status, parsed, response.headers.get('retry-after'));
  };

  return async <T>(request: HttpRequest): Promise<T> => {
    const delayAfter = retrySchedule(options.retry, options.random);
    const idempotent = request.method !== 'POST' || request.idempotent || !!request.idempotencyKey;
    for (;;) {
      try {
        return await send<T>(request);
      } catch (error) {
        const delay = error instanceof ApiError ? delayAfter(error, idempotent) : undefined;
        if (delay === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
}
