import { QueryClient } from '@tanstack/react-query';
import type { ApiError } from './api.ts';

declare module '@tanstack/react-query' {
  interface Register {
    // Every query function goes through `request` (queries.ts), which throws only ApiError.
    defaultError: ApiError;
  }
}

/** Attempts after the first failure: enough to ride out a blip, short enough that an outage shows soon. */
const MAX_RETRIES = 2;

/**
 * Whether a failed request is worth asking again. A 4xx is an answer (not
 * found, not signed in, refused): asking again gets the same one.
 */
export function shouldRetry(failureCount: number, error: ApiError): boolean {
  if (error.status >= 400 && error.status < 500) return false;
  return failureCount < MAX_RETRIES;
}

/** The app's one QueryClient (main.tsx): the HTTP server state; live availability stays on the SDK. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: shouldRetry,
        // Fetch even when the browser says it is offline: the page then says it cannot reach the server, rather than "Loading…" forever.
        networkMode: 'always',
        // Pages refresh on mount and where they poll; a focus refetch would re-seed the sales chart the live stream already counts.
        refetchOnWindowFocus: false,
      },
    },
  });
}
