import type { UseQueryResult } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import type { ApiError } from '../api.ts';

export interface QueryStatus {
  /** True until the first answer or failure. */
  loading: boolean;
  error: ApiError | null;
  onRetry: () => void;
}

/**
 * A query's loading and error line (RequestStatus). A failure shows at once,
 * while retries still run, and stays while a poll or Retry asks again:
 * TanStack sets a query with no data back to pending on every refetch, which
 * would flash "Loading…" between failures.
 */
export function useQueryStatus(query: UseQueryResult<unknown, ApiError>): QueryStatus {
  const [lastError, setLastError] = useState<ApiError | null>(null);
  // Adjusted during render (React's pattern for state derived from props).
  if (query.error && query.error !== lastError) setLastError(query.error);
  if (query.isSuccess && lastError) setLastError(null);
  const error = query.failureReason ?? query.error ?? (query.isPending ? lastError : null);
  const { refetch } = query;
  const onRetry = useCallback(() => void refetch(), [refetch]);
  return { loading: query.isPending && error === null, error, onRetry };
}
