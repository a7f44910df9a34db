/** What a server process reports about itself: CPU time and memory, from inside. */

export interface ProcessSample {
  /** User plus system CPU time since the process started. */
  cpuMs: number;
  rssBytes: number;
  heapUsedBytes: number;
}

/** Samples this process; with `gc` (and node --expose-gc) collects first, so the heap is what is live. */
export function sampleProcess(gc = false): ProcessSample {
  if (gc) globalThis.gc?.();
  const { user, system } = process.cpuUsage();
  const memory = process.memoryUsage();
  return { cpuMs: (user + system) / 1000, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed };
}
