import type { WatchedEvent } from './watched-event.ts';

/**
 * Listeners hear at most once per debounce window, whatever happened in it.
 * Leading edge: the first change after a quiet window is told at once (on the
 * next macrotask, so changes that arrive together are told together); the
 * rest of a busy window is told once, when the window ends.
 */
export class NotificationQueue {
  private readonly pending = new Set<WatchedEvent>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushedAt = -Infinity;

  constructor(
    private readonly debounceMs: number,
    private readonly notify: (event: WatchedEvent) => void,
  ) {}

  schedule(event: WatchedEvent): void {
    this.pending.add(event);
    this.timer ??= setTimeout(() => this.flush(), Math.max(0, this.flushedAt + this.debounceMs - Date.now()));
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private flush(): void {
    this.timer = undefined;
    this.flushedAt = Date.now();
    const events = [...this.pending];
    this.pending.clear();
    for (const event of events) this.notify(event);
  }
}
