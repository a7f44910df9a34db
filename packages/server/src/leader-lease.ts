import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Queryable } from './db/database.ts';

/**
 * One node's claim on a single-leader job (the expiry sweeper; queue
 * admission takes the same kind of lease inside its tick): every node asks
 * before each run and only the leader runs. The lease lives in PostgreSQL
 * (db/repeatable/05_leader_leases.sql), so the same code picks one leader
 * among the workers of one machine (`ticketpulse start --workers`) and among
 * machines. A leader that dies stops renewing; after `leaseMs` the next node
 * to ask takes over.
 */
export class LeaderLease {
  readonly node = randomUUID();
  private leading = false;

  constructor(
    private readonly db: Queryable,
    readonly job: string,
    private readonly leaseMs: number,
    private readonly logger: Pick<Logger, 'info' | 'warn'>,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** Takes or renews the lease: whether this node leads now. False when the database cannot be asked. */
  async take(): Promise<boolean> {
    let leader = false;
    try {
      const { rows } = await this.db.query<{ leader: boolean }>('SELECT take_leader_lease($1, $2, $3) AS leader', [this.job, this.node, this.leaseMs]);
      leader = rows[0]?.leader === true;
    } catch (error) {
      this.logger.warn({ err: error, job: this.job }, 'could not take or renew a leader lease');
    }
    if (leader !== this.leading) this.logger.info({ job: this.job, node: this.node }, leader ? 'leading this job' : 'no longer leading this job');
    this.leading = leader;
    return leader;
  }

  /** Gives the lease up (a node shutting down), so another takes over at its next run. */
  async release(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    await this.db
      .query('SELECT release_leader_lease($1, $2)', [this.job, this.node])
      .catch((error: unknown) => this.logger.warn({ err: error, job: this.job }, 'could not give a leader lease up'));
  }
}
