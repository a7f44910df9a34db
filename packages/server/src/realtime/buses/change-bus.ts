import { UUID } from '../../inventory/event-ref.ts';

/**
 * What one node tells the others in a tick: the events that changed, and
 * whose personal feeds did (holder keys: holderKey(), never the holder ids
 * themselves). One message stands for many changes. The admission leader
 * also names, right after each admission tick, the events whose waiting room
 * moved (`queueIds`), so that every node sends their `queue` frames at once.
 */
export interface ChangeBatch {
  eventIds: string[];
  holderKeys: string[];
  queueIds: string[];
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

/** Wire format of a bus message: which node sent it (so it can skip its own), the event ids, the holder keys and the admitted queues' event ids. */
export interface ChangeSignal {
  node: string;
  events: string[];
  holders?: string[];
  queues?: string[];
}

const HOLDER_KEY = /^[0-9a-f]{16}$/;

/** Parses a bus message from another node; undefined for our own, for garbage, or when it names nothing. */
export function parseSignal(payload: string, ownNode: string): ChangeBatch | undefined {
  try {
    const signal = JSON.parse(payload) as Partial<ChangeSignal>;
    if (signal.node === ownNode || !Array.isArray(signal.events)) return undefined;
    const batch = {
      eventIds: matching(signal.events, UUID),
      holderKeys: matching(signal.holders, HOLDER_KEY),
      queueIds: matching(signal.queues, UUID),
    };
    return batch.eventIds.length + batch.holderKeys.length + batch.queueIds.length > 0 ? batch : undefined;
  } catch {
    return undefined;
  }
}

function matching(values: unknown, pattern: RegExp): string[] {
  return Array.isArray(values) ? values.filter((value): value is string => typeof value === 'string' && pattern.test(value)) : [];
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
  for (let i = 0; i < batch.queueIds.length; i += maxEventsPerMessage) {
    payloads.push(JSON.stringify({ node, events: [], queues: batch.queueIds.slice(i, i + maxEventsPerMessage) } satisfies ChangeSignal));
  }
  return payloads;
}
