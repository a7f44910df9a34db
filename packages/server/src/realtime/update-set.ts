import { encodeTextFrame } from './text-frame.ts';

/**
 * A set of serialized updates, in order, and the one frame that carries
 * them, built and framed once for every viewer that gets exactly these
 * updates. Sets grow one update at a time from an empty root, and the same
 * update added to the same set gives the same set: a fan-out allocates per
 * distinct set of updates (most viewers watch one busy event), not per viewer.
 */
export class UpdateSet {
  private readonly next = new Map<string, UpdateSet>();
  /** The last update added and its set: in a fan-out every viewer of a busy event adds the same one in turn. */
  private lastUpdate: string | undefined;
  private lastSet: UpdateSet | undefined;
  private frame: Buffer | undefined;

  constructor(
    readonly eventIds: readonly string[] = [],
    readonly updates: readonly string[] = [],
  ) {}

  get empty(): boolean {
    return this.updates.length === 0;
  }

  /** This set and one more update (a serialized update is unique to its event and version). */
  with(eventId: string, update: string): UpdateSet {
    if (update === this.lastUpdate) return this.lastSet!;
    let set = this.next.get(update);
    if (!set) this.next.set(update, (set = new UpdateSet([...this.eventIds, eventId], [...this.updates, update])));
    this.lastUpdate = update;
    this.lastSet = set;
    return set;
  }

  /** The `updates` frame, WebSocket header included, built once. */
  framed(serverTime: string): Buffer {
    return (this.frame ??= encodeTextFrame(Buffer.from(`{"type":"updates","serverTime":"${serverTime}","updates":[${this.updates.join(',')}]}`)));
  }
}
