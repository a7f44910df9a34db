import { UUID } from '../../inventory/event-ref.ts';

/** How gateway nodes tell each other which events changed. One message stands for many changes. */
export interface ChangeBusHandlers {
  onChanged(eventIds: string[]): void;
  /** Signals may have been lost (a reconnect): re-read everything watched. */
  onMissedSignals(): void;
}

export interface ChangeBus {
  start(handlers: ChangeBusHandlers): Promise<void>;
  publish(eventIds: string[]): Promise<void>;
  close(): Promise<void>;
}

/** Wire format of a bus message: which node sent it (so it can skip its own) and the event ids. */
export interface ChangeSignal {
  node: string;
  events: string[];
}


/** Parses a bus message from another node; undefined for our own or for garbage. */
export function parseSignal(payload: string, ownNode: string): string[] | undefined {
  try {
    const signal = JSON.parse(payload) as Partial<ChangeSignal>;
    if (signal.node === ownNode || !Array.isArray(signal.events)) return undefined;
    return signal.events.filter((id): id is string => typeof id === 'string' && UUID.test(id));
  } catch {
    return undefined;
  }
}

/** Splits ids into messages that stay under a payload limit (NOTIFY takes 8000 bytes). */
export function signalPayloads(node: string, eventIds: string[], maxIdsPerMessage = 150): string[] {
  const payloads: string[] = [];
  for (let i = 0; i < eventIds.length; i += maxIdsPerMessage) {
    payloads.push(JSON.stringify({ node, events: eventIds.slice(i, i + maxIdsPerMessage) } satisfies ChangeSignal));
  }
  return payloads;
}
