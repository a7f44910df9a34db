import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api.ts';

export interface RequestState<T> {
  data: T | undefined;
  error: ApiError | null;
  /** True until the first answer (or failure) for the current key. */
  loading: boolean;
  reload: () => void;
  /** Replaces the data with a newer answer (e.g. from a PUT) until the next load. */
  mutate: (data: T) => void;
}

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError('unexpected', error instanceof Error ? error.message : String(error), 0);
}

/**
 * Loads `load()` whenever `key` changes (null: nothing to load), and again
 * every `intervalMs` if given. A failed poll keeps the last data and reports
 * the error; the next poll clears it.
 */
export function useRequest<T>(key: string | null, load: (signal: AbortSignal) => Promise<T>, intervalMs?: number): RequestState<T> {
  const [state, setState] = useState<{ key: string | null; data: T | undefined; error: ApiError | null; settled: boolean }>({
    key,
    data: undefined,
    error: null,
    settled: false,
  });
  const [generation, setGeneration] = useState(0);
  const loader = useRef(load);
  loader.current = load;

  useEffect(() => {
    if (key === null) return;
    let controller = new AbortController();
    const run = () => {
      controller.abort();
      controller = new AbortController();
      const { signal } = controller;
      loader
        .current(signal)
        .then((data) => {
          if (!signal.aborted) setState({ key, data, error: null, settled: true });
        })
        .catch((error: unknown) => {
          if (signal.aborted) return;
          setState((previous) => ({ key, data: previous.key === key ? previous.data : undefined, error: asApiError(error), settled: true }));
        });
    };
    run();
    const timer = intervalMs ? setInterval(run, intervalMs) : undefined;
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [key, intervalMs, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const mutate = useCallback((data: T) => setState({ key, data, error: null, settled: true }), [key]);
  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : null,
    loading: key !== null && (!current || !state.settled),
    reload,
    mutate,
  };
}
