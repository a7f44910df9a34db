import type { PersonalChange, PersonalState, ServerMessage } from '@ticketpulse/protocol';
import { Backoff } from './backoff.ts';
import { RealtimeSocket } from './ticketpulse/realtime-socket.ts';
import type { WebSocketConstructor } from './types.ts';

export interface PersonalFeedOptions {
  url: string;
  getToken: () => string | Promise<string>;
  WebSocket: WebSocketConstructor;
  random?: () => number;
}

/** Told of each frame's changes, and of a (re)subscribe with none: the state may then be wholly new. */
export type PersonalFeedListener = (changes: readonly PersonalChange[], state: PersonalState) => void;

/**
 * The signed-in user's personal feed (docs/protocol.md, "The personal
 * feed") on a WebSocket of its own: their holds, offers and waiting-list
 * entries, kept by version and resynced with `sinceVersion` after every reconnect.
 */
export class PersonalFeed {
  state: PersonalState = { holds: [], waitlist: [] };
  /** Subscribed on the open connection: what it says is current. */
  live = false;
  private version: number | undefined;
  private readonly socket: RealtimeSocket;

  constructor(options: PersonalFeedOptions, listener: PersonalFeedListener) {
    const join = () => this.socket.send({ type: 'subscribe_personal', ...(this.version !== undefined && { sinceVersion: this.version }) });
    this.socket = new RealtimeSocket({
      ...options,
      WebSocket: () => options.WebSocket,
      backoff: new Backoff(500, 20_000, options.random),
      connectTimeoutMs: 10_000,
      session: Math.random().toString(36).slice(2, 14),
      handlers: {
        welcome: join,
        status: () => (this.live = false),
        failed: () => {},
        message: (message: ServerMessage) => {
          if (message.type === 'personal_subscribed') {
            this.version = message.version;
            this.state = message.state ?? this.state;
            this.live = true;
            listener([], this.state);
          } else if (message.type === 'personal') {
            // A gap: ask again with what we have.
            if (message.previousVersion !== this.version) return join();
            this.version = message.version;
            let { holds, waitlist } = this.state;
            for (const change of message.changes) {
              if ('hold' in change) {
                holds = holds.filter((hold) => hold.reservationId !== change.hold.reservationId);
                if (change.hold.status === 'active') holds.push(change.hold);
              } else {
                waitlist = waitlist.filter((entry) => entry.id !== change.entry.id);
                if (change.entry.status === 'waiting' || change.entry.status === 'offered') waitlist.push(change.entry);
              }
            }
            this.state = { holds, waitlist };
            listener(message.changes, this.state);
          } else if (message.type === 'error' && message.code === 'subject_required') this.stop();
        },
      },
    });
  }

  start(): void {
    this.socket.start();
  }

  stop(): void {
    this.live = false;
    this.socket.stop();
  }
}
