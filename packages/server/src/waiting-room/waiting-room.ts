import type { Queue, QueueEntry, QueueLive } from '@ticketpulse/protocol';
import type { Queryable } from '../db/database.ts';
import { isoTime } from '../iso-time.ts';
import type { Audience } from '../auth/principal.ts';
import type { HolderListener } from '../inventory/availability-listener.ts';
import { refusal, refusalsAsErrors } from '../inventory/errors.ts';
import { EventIds } from '../inventory/event-ref.ts';
import { GroupCommit } from '../inventory/group-commit.ts';
import { decideJoins, type BatchedJoin, type EntryRow, type JoinOutcome } from './join-batch.ts';
import type { PassCheck, QueuePasses } from './queue-pass.ts';

export type { Queue, QueueEntry, QueueLive };

/** A queue's live state (queue_live()), with how often its connected visitors must be marked seen. */
export interface QueueLiveState {
  live: QueueLive;
  abandonAfterSeconds: number;
}

/** An entry and whose it is (the token `sub`): for the service to route it to its holder alone. */
export interface HolderEntry {
  holderId: string;
  entry: QueueEntry;
}

/** The organizer's settings, by their wire names; a change may name any subset (PATCH), a setup names them all (PUT). */
export interface QueueSettingsChange {
  enabled?: boolean;
  opensAt?: string;
  prequeueMinutes?: number;
  admitPerMinute?: number;
  maxActiveShoppers?: number | null;
  passSeconds?: number;
  abandonAfterSeconds?: number;
  paused?: boolean;
}

/** A visitor: the token's `sub`, and what they may see of events. */
export interface Visitor {
  holderId: string;
  audience: Audience;
}

type QueueRow = Omit<Queue, 'opensAt'> & { opensAt: string };

export const toQueue = (row: QueueRow): Queue => ({ ...row, opensAt: isoTime(row.opensAt) });

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** How old a room's live state may be in a polling visitor's answer (who polls every 1-10 s). */
const LIVE_FRESH_MS = 1000;

/**
 * When a visitor polling their entry should ask again (docs/waiting-room.md,
 * "Polling"): in line, a quarter of the estimated wait, between 1 and 10
 * seconds (each read keeps them present); admitted, by the time their pass
 * runs out, at most 10 seconds; done (expired, sold out, closed), 30 seconds.
 */
export function pollAfterMs(entry: QueueEntry, now = Date.now()): number {
  switch (entry.status) {
    case 'waiting':
    case 'prequeue':
      return clamp((entry.estimatedWaitSeconds ?? 0) * 250, 1000, 10_000);
    case 'admitted':
      return clamp(entry.passExpiresAt ? Date.parse(entry.passExpiresAt) - now : 0, 1000, 10_000);
    default:
      return 30_000;
  }
}

/** One SQL function of db/repeatable/70_waiting_room.sql, its refusals as InventoryErrors. */
async function callQueueFunction<Row>(db: Queryable, fn: string, params: unknown[]): Promise<Row> {
  const { rows } = await refusalsAsErrors(db.query<{ r: Row }>(`SELECT ${fn} AS r`, params));
  return rows[0]!.r;
}

/** Creates an event's queue (opensAt and admitPerMinute needed) or changes it; live state is kept. WaitingRoom.configure, and the demo seed, which has no passes to sign. */
export async function configureQueue(db: Queryable, eventRef: string, settings: QueueSettingsChange): Promise<Queue> {
  // As the instant in UTC: ISO 8601 allows offsets up to ±23:59, PostgreSQL only up to ±15:59.
  const stored = settings.opensAt === undefined ? settings : { ...settings, opensAt: isoTime(settings.opensAt) };
  return toQueue(await callQueueFunction<QueueRow>(db, 'queue_configure($1, $2::jsonb)', [eventRef, JSON.stringify(stored)]));
}

/**
 * The virtual waiting room of events (docs/waiting-room.md): organizers set
 * it up, visitors join, read and leave their entry. Each call is one SQL
 * function in db/repeatable/70_waiting_room.sql; admission is
 * AdmissionDriver's, and who may hold is decided inside reserve_holds().
 */
export interface WaitingRoomOptions {
  /** Most joins decided in one transaction (1: one transaction per join, the benchmark's baseline). */
  maxJoinBatch?: number;
  /** Told the size of every batch of joins decided. */
  onJoinBatch?: (size: number) => void;
  /** Told, after commit, whose entry a join or a leave made or ended (the gateway re-reads it for their other connections), as Holds tells of holds. */
  onHolderChange?: HolderListener;
}

// As for holds (inventory/holds.ts): an opening's burst in a few batches, each transaction a few milliseconds.
const DEFAULT_MAX_JOIN_BATCH = 256;

export class WaitingRoom {
  private readonly eventIds: EventIds;
  /** Concurrent joins of one event, decided together (group commit keyed by event id, as holds are). */
  private readonly joins: GroupCommit<BatchedJoin, JoinOutcome>;
  /** liveOf's recent reads, by event id. */
  private readonly recentLive = new Map<string, { at: number; live: Promise<QueueLive | null> }>();
  private readonly onHolderChange: HolderListener;

  constructor(
    private readonly db: Queryable,
    private readonly passes: QueuePasses,
    options: WaitingRoomOptions = {},
  ) {
    this.eventIds = new EventIds(db);
    this.onHolderChange = options.onHolderChange ?? (() => {});
    this.joins = new GroupCommit((eventId, joins) => decideJoins(db, eventId, joins), options.maxJoinBatch ?? DEFAULT_MAX_JOIN_BATCH, options.onJoinBatch);
  }

  /** Creates the queue (opensAt and admitPerMinute needed) or changes it; live state is kept. */
  configure(eventRef: string, settings: QueueSettingsChange): Promise<Queue> {
    return configureQueue(this.db, eventRef, settings);
  }

  async read(eventRef: string): Promise<Queue> {
    return toQueue(await this.call<QueueRow>('queue_read($1)', [eventRef]));
  }

  /** Joins, or returns the visitor's entry as it is (created: false). */
  async join(eventRef: string, { holderId, audience }: Visitor): Promise<{ entry: QueueEntry; created: boolean }> {
    const outcome = await this.joins.submit(await this.eventIds.of(eventRef), { holderId, userId: audience.userId ?? null, privileged: audience.privileged });
    if ('error' in outcome) throw refusal(outcome.error.message, outcome.error.detail);
    // Also when not created: a rejoin after leaving or a spent pass is put back at the end.
    this.onHolderChange(holderId);
    return { entry: await this.toEntry(outcome.entry), created: outcome.created };
  }

  async entry(eventRef: string, visitor: Visitor): Promise<QueueEntry> {
    return this.toEntry(await this.call<EntryRow>('queue_entry_read($1, $2, $3, $4)', this.visitorParams(eventRef, visitor)));
  }

  async leave(eventRef: string, visitor: Visitor): Promise<QueueEntry> {
    const row = await this.call<EntryRow>('queue_leave($1, $2, $3, $4)', this.visitorParams(eventRef, visitor));
    this.onHolderChange(visitor.holderId);
    return this.toEntry(row);
  }

  /**
   * One event's live state for its polling visitors: read at most once a
   * second per event (reads in flight shared), so a crowd polling costs the
   * database what one visitor does.
   */
  liveOf(eventId: string): Promise<QueueLive | null> {
    const now = Date.now();
    const cached = this.recentLive.get(eventId);
    if (cached && now - cached.at < LIVE_FRESH_MS) return cached.live;
    for (const [id, { at }] of this.recentLive) if (now - at >= LIVE_FRESH_MS) this.recentLive.delete(id);
    const live = this.live([eventId]).then(([state]) => state?.live ?? null);
    this.recentLive.set(eventId, { at: now, live });
    // A failed read is not kept; a newer one that replaced it meanwhile stays.
    live.catch(() => {
      if (this.recentLive.get(eventId)?.live === live) this.recentLive.delete(eventId);
    });
    return live;
  }

  /** The live state of the queues of these events (those that have one), in one query. */
  async live(eventIds: readonly string[]): Promise<QueueLiveState[]> {
    if (eventIds.length === 0) return [];
    const rows = await this.call<Array<QueueLive & { abandonAfterSeconds: number }>>('queue_live($1::uuid[])', [eventIds]);
    return rows.map(({ abandonAfterSeconds, ...live }) => ({ live: { ...live, opensAt: isoTime(live.opensAt) }, abandonAfterSeconds }));
  }

  /**
   * The entries these holders have in one event's queue, each as its holder
   * sees it; with `seen`, they count as present now (one statement for all).
   */
  async entriesOf(eventId: string, holderIds: readonly string[], seen: boolean): Promise<HolderEntry[]> {
    if (holderIds.length === 0) return [];
    const rows = await this.call<EntryRow[]>('queue_entries_of_holders($1, $2::text[], $3)', [eventId, holderIds, seen]);
    return Promise.all(rows.map(async (row) => ({ holderId: row.holderId, entry: await this.toEntry(row) })));
  }

  /** A pass presented with a hold: signed by this service, unexpired, for this event and this holder. */
  async checkPass(token: string, eventRef: string, holderId: string): Promise<PassCheck> {
    return this.passes.check(token, { eventId: await this.eventIds.of(eventRef), holderId });
  }

  private visitorParams(eventRef: string, { holderId, audience }: Visitor): unknown[] {
    return [eventRef, holderId, audience.userId ?? null, audience.privileged];
  }

  private async toEntry(row: EntryRow): Promise<QueueEntry> {
    const admitted = row.status === 'admitted' && row.admittedAt !== null && row.passExpiresAt !== null;
    return {
      id: row.id,
      eventId: row.eventId,
      status: row.status,
      position: row.position,
      peopleAhead: row.peopleAhead,
      estimatedWaitSeconds: row.estimatedWaitSeconds,
      opensAt: isoTime(row.opensAt),
      pass: admitted
        ? await this.passes.sign({
            eventId: row.eventId,
            holderId: row.holderId,
            entryId: row.id,
            admittedAt: new Date(row.admittedAt!),
            expiresAt: new Date(row.passExpiresAt!),
          })
        : null,
      passExpiresAt: admitted ? isoTime(row.passExpiresAt!) : null,
    };
  }

  private call<Row>(fn: string, params: unknown[]): Promise<Row> {
    return callQueueFunction<Row>(this.db, fn, params);
  }
}
