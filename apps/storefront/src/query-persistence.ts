import { dehydrate, hydrate, type DehydratedState, type QueryClient, type QueryKey } from '@tanstack/react-query';

const STORAGE_KEY = 'ticketpulse.queries';

function load(): DehydratedState | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as DehydratedState) : null;
  } catch {
    return null;
  }
}

/**
 * Keeps the answers of the queries `persisted` picks in localStorage, and
 * restores them into `client` now, so a reload while offline still shows them
 * (marked as old: they are fetched again on use). Returns the unsubscribe.
 */
export function persistQueries(client: QueryClient, persisted: (queryKey: QueryKey) => boolean): () => void {
  const saved = load();
  // Kept for good: they leave the cache only when the storage entry is replaced.
  if (saved) hydrate(client, saved, { defaultOptions: { queries: { gcTime: Infinity } } });
  return client.getQueryCache().subscribe((event) => {
    if (event.type !== 'updated' || event.action.type !== 'success' || !persisted(event.query.queryKey)) return;
    try {
      const state = dehydrate(client, { shouldDehydrateQuery: (query) => query.state.status === 'success' && persisted(query.queryKey) });
      localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch {
      // Full or unavailable: the copy is a convenience.
    }
  });
}
