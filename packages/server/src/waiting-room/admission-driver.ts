import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Queryable } from '../db/database.ts';
import { PeriodicTask } from '../periodic-task.ts';
import { toQueue, type Queue } from './waiting-room.ts';

export interface AdmissionSettings {
  /** How often every node calls the admission tick; only the leader admits. */
  tickMs: number;
  /** How long the leader's lease lasts without a tick: another node takes over after it. */
  leaseMs: number;
}

export const DEFAULT_ADMISSION: AdmissionSettings = { tickMs: 250, leaseMs: 1500 };

export interface AdmissionTick {
  /** Whether this node drove admission on this tick. */
  leader: boolean;
  /** Each enabled, opened queue after the tick (leader only). */
  queues: Queue[];
  /** The event ids of those whose served-up-to mark or status changed since this node's previous tick (all, on its first as leader). */
  moved: string[];
}

/**
 * Drives admission (db/repeatable/70_waiting_room.sql, queue_admission_tick):
 * every node ticks, one of them, the leader, admits. The leader renews its
 * 'queue-admission' lease (db/repeatable/05_leader_leases.sql) on each tick; if
 * it dies, the lease lapses within leaseMs and the next node to tick takes over. Each tick
 * advances every open queue's served-up-to mark by the elapsed time, measured
 * on the database clock, times its rate.
 */
export class AdmissionDriver {
  readonly node = randomUUID();
  private readonly task: PeriodicTask;
  private leading = false;
  /** Each queue's served-up-to mark and status after this node's last tick as leader: what `moved` compares to. */
  private marks = new Map<string, string>();

  constructor(
    private readonly db: Queryable,
    private readonly settings: AdmissionSettings,
    private readonly logger: Logger,
    /** Told of every tick this node led, with the queues as they now stand. */
    private readonly onTick: (tick: AdmissionTick) => void = () => {},
  ) {
    this.task = new PeriodicTask(settings.tickMs, () => this.tick());
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.task.start();
  }

  /** Stops ticking and gives the lease up, so that another node takes over at its next tick. */
  async stop(): Promise<void> {
    await this.task.stop();
    if (!this.leading) return;
    this.leading = false;
    await this.db
      .query("SELECT release_leader_lease('queue-admission', $1)", [this.node])
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not give the admission lease up'));
  }

  /** One tick; `now` overrides the database clock (tests). Errors are logged, not thrown. */
  async tick(now?: Date): Promise<AdmissionTick> {
    try {
      const { rows } = await this.db.query<{ tick: { leader: boolean; queues: Array<Parameters<typeof toQueue>[0]> } }>(
        'SELECT queue_admission_tick($1, $2, $3) AS tick',
        [this.node, this.settings.leaseMs, now?.toISOString() ?? null],
      );
      const { leader, queues } = rows[0]!.tick;
      if (leader !== this.leading) this.logger.info({ node: this.node }, leader ? 'driving queue admission' : 'no longer driving queue admission');
      this.leading = leader;
      const tick = { leader, queues: queues.map(toQueue), moved: this.moved(leader ? queues : []) };
      if (leader) this.onTick(tick);
      return tick;
    } catch (error) {
      this.logger.warn({ err: error }, 'queue admission tick failed; retrying next tick');
      return { leader: false, queues: [], moved: [] };
    }
  }

  private moved(queues: ReadonlyArray<Pick<Queue, 'eventId' | 'servedUpTo' | 'status'>>): string[] {
    const marks = new Map(queues.map((queue) => [queue.eventId, `${queue.servedUpTo} ${queue.status}`]));
    const moved = [...marks].filter(([eventId, mark]) => this.marks.get(eventId) !== mark).map(([eventId]) => eventId);
    this.marks = marks;
    return moved;
  }
}
