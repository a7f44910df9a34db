import { UUID } from '../../inventory/event-ref.ts';

/**
 * What one node tells the others in a tick: the events that changed, and
 * whose personal feeds did (holder keys: holderKey(), never the holder ids
 * themselves). One message stands for many changes.
 */
export interface ChangeBatch {
  eventIds: string[];
  holderKeys: string[];
}

/** How gateway nodes tell each other what changed. */
export interface ChangeBusHandlers {
  onChanged(batch: ChangeBatch): void;
  /** Signals may have been lost (a reconnect): re-read everything watched. */
  onMissedSignals(): void;
}

export interface ChangeBus {
  start(handlers: ChangeBusHandlers): Promise<void>;
  publish(batch: ChangeBatch): Promise<void>;
  close(): Promise<void>;
}

/** Wire format of a bus message: which node sent it (so it can skip its own), the event ids and the holder keys. */
export interface ChangeSignal {
  node: string;
  events: string[];
  holders?: string[];
}

const HOLDER_KEY = /^[0-9a-f]{16}$/;

/** Parses a bus message from another node; undefined for our own or for garbage. */
export function parseSignal(payload: string, ownNode: string): ChangeBatch | undefined {
  try {
    const signal = JSON.parse(payload) as Partial<ChangeSignal>;
    if (signal.node === ownNode || !Array.isArray(signal.events)) return undefined;
    return {
      eventIds: signal.events.filter((id): id is string => typeof id === 'string' && UUID.test(id)),
      holderKeys: Array.isArray(signal.holders) ? signal.holders.filter((key): key is string => typeof key === 'string' && HOLDER_KEY.test(key)) : [],
    };
  } catch {
    return undefined;
  }
}

/**
 * Splits a batch into messages that stay under a payload limit (NOTIFY takes
 * 8000 bytes): 150 event ids (36 characters each) a message, and holder keys
 * (16) in messages of their own, 380 a message, so an on-sale's thousands of
 * buyers a second add a few messages a tick, not one per hold.
 */
export function signalPayloads(node: string, batch: ChangeBatch, maxEventsPerMessage = 150, maxHoldersPerMessage = 380): string[] {
  const payloads: string[] = [];
  for (let i = 0; i < batch.eventIds.length; i += maxEventsPerMessage) {
    payloads.push(JSON.stringify({ node, events: batch.eventIds.slice(i, i + maxEventsPerMessage) } satisfies ChangeSignal));
  }
  for (let i = 0; i < batch.holderKeys.length; i += maxHoldersPerMessage) {
    payloads.push(JSON.stringify({ node, events: [], holders: batch.holderKeys.slice(i, i + maxHoldersPerMessage) } satisfies ChangeSignal));
  }
  return payloads;
}
