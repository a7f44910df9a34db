import type { WatchedEvent } from './watched-event.ts';

/** Listeners hear at most once per debounce window, whatever happened in it. */
export class NotificationQueue {
  private readonly pending = new Set<WatchedEvent>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly debounceMs: number,
    private readonly notify: (event: WatchedEvent) => void,
  ) {}

  schedule(event: WatchedEvent): void {
    this.pending.add(event);
    this.timer ??= setTimeout(() => this.flush(), this.debounceMs);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private flush(): void {
    this.timer = undefined;
    const events = [...this.pending];
    this.pending.clear();
    for (const event of events) this.notify(event);
  }
}
