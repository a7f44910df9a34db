import type { AvailabilityStorage } from './types.ts';

/**
 * The browser's localStorage as an AvailabilityStorage. Quota errors and
 * private modes are ignored: the cache is a convenience, never a source of truth.
 */
export function localStorageCache(prefix = 'ticketpulse:'): AvailabilityStorage {
  const store = (globalThis as { localStorage?: Storage }).localStorage;
  return {
    getItem(key) {
      try {
        return store?.getItem(prefix + key) ?? null;
      } catch {
        return null;
      }
    },
    setItem(key, value) {
      try {
        store?.setItem(prefix + key, value);
      } catch {
        // Full or unavailable: keep going without the cache.
      }
    },
  };
}

/** In-memory storage, for tests and for servers. */
export function memoryCache(): AvailabilityStorage & { readonly size: number } {
  const map = new Map<string, string>();
  return {
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    get size() {
      return map.size;
    },
  };
}
