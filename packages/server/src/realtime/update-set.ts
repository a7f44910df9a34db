import { encodeTextFrame } from './text-frame.ts';

/**
 * A set of serialized updates, in order, and the one frame that carries
 * them, built and framed once for every viewer that gets exactly these
 * updates. Sets grow one update at a time from an empty root, and the same
 * update added to the same set gives the same set: a fan-out allocates per
 * distinct set of updates (most viewers watch one busy event), not per viewer.
 * Each update comes with its commit time (ms), so a set knows how long its
 * oldest change has waited.
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
    readonly committedAt: readonly number[] = [],
    /** The earliest of `committedAt` (Infinity when empty). */
    readonly oldest = Infinity,
  ) {}

  get empty(): boolean {
    return this.updates.length === 0;
  }

  /** This set and one more update, committed at `committedAt` (a serialized update is unique to its event and version). */
  with(eventId: string, update: string, committedAt: number): UpdateSet {
    if (update === this.lastUpdate) return this.lastSet!;
    let set = this.next.get(update);
    if (!set) {
      set = new UpdateSet([...this.eventIds, eventId], [...this.updates, update], [...this.committedAt, committedAt], Math.min(this.oldest, committedAt));
      this.next.set(update, set);
    }
    this.lastUpdate = update;
    this.lastSet = set;
    return set;
  }

  /** The `updates` frame, WebSocket header included, built once. */
  framed(serverTime: string): Buffer {
    return (this.frame ??= encodeTextFrame(Buffer.from(`{"type":"updates","serverTime":"${serverTime}","updates":[${this.updates.join(',')}]}`)));
  }
}

/**
 * A fan-out's connections grouped by the set of updates each gets (one frame
 * per group), taking each one's `pending` set: the group whose oldest change
 * has waited longest goes first. A quiet event's change that waited for this
 * run (or was held since the last) is not also kept behind the whole fan-out
 * of this run's; within a group, connections keep their order.
 */
export function oldestFirst<C extends { pending: UpdateSet | undefined }>(touched: readonly C[]): Array<[UpdateSet, C[]]> {
  const groups = new Map<UpdateSet, C[]>();
  for (const connection of touched) {
    const set = connection.pending!;
    connection.pending = undefined;
    const group = groups.get(set);
    if (group) group.push(connection);
    else groups.set(set, [connection]);
  }
  return [...groups].sort(([a], [b]) => a.oldest - b.oldest);
}
