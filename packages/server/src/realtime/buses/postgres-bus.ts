import type { Database } from '../../db/database.ts';
import { parseSignal, signalPayloads, type ChangeBatch, type ChangeBus } from './change-bus.ts';

const CHANNEL = 'ticketpulse_availability';

/**
 * The default bus: PostgreSQL LISTEN/NOTIFY. Each node sends one NOTIFY per
 * tick, plus one for a quiet event's first change (the tick's leading edge:
 * at most one per event per tick), always outside any hold transaction, so
 * NOTIFY's commit-time lock never sits on the per-seat path.
 */
export class PostgresChangeBus implements ChangeBus {
  private stop: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Database,
    private readonly node: string,
  ) {}

  async start({ onChanged, onMissedSignals }: Parameters<ChangeBus['start']>[0]): Promise<void> {
    this.stop = await this.db.listen(
      CHANNEL,
      (payload) => {
        const batch = parseSignal(payload, this.node);
        if (batch) onChanged(batch);
      },
      onMissedSignals,
    );
  }

  async publish(batch: ChangeBatch): Promise<void> {
    for (const payload of signalPayloads(this.node, batch)) await this.db.notify(CHANNEL, payload);
  }

  async close(): Promise<void> {
    await this.stop?.();
  }
}
