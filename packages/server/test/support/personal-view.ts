import type { PersonalChange, PersonalHold, PersonalMessage, PersonalSubscribedMessage, PersonalWaitlistEntry, ServerMessage } from '@ticketpulse/protocol';
import type { TestSocket } from './realtime-client.ts';

/**
 * A user's personal feed as a client keeps it (docs/protocol.md, "The
 * personal feed"): the state from `personal_subscribed`, then each
 * `personal` frame applied on exactly its previous version. A gap fails the test.
 */
export class PersonalView {
  version = -1;
  readonly holds = new Map<string, PersonalHold>();
  readonly entries = new Map<string, PersonalWaitlistEntry>();
  /** Every change applied, in order. */
  readonly changes: PersonalChange[] = [];
  gaps = 0;

  constructor(readonly socket: TestSocket) {
    socket.ws.on('message', (data) => this.onMessage(JSON.parse(data.toString()) as ServerMessage));
  }

  /** Subscribes (with what it has, after the first time) and waits for the answer. */
  async subscribe(): Promise<PersonalSubscribedMessage> {
    const ref = Math.random().toString(36).slice(2);
    this.socket.send({ type: 'subscribe_personal', ref, ...(this.version >= 0 && { sinceVersion: this.version }) });
    return this.socket.next<PersonalSubscribedMessage>((m) => m.type === 'personal_subscribed' && m.ref === ref);
  }

  /** The changes of one kind applied so far. */
  of(kind: PersonalChange['change']): PersonalChange[] {
    return this.changes.filter((change) => change.change === kind);
  }

  private onMessage(message: ServerMessage): void {
    if (message.type === 'personal_subscribed') {
      this.version = message.version;
      if (message.unchanged) return;
      this.holds.clear();
      this.entries.clear();
      for (const hold of message.state!.holds) this.holds.set(hold.reservationId, hold);
      for (const entry of message.state!.waitlist) this.entries.set(entry.id, entry);
    }
    if (message.type === 'personal') this.apply(message);
  }

  private apply(message: PersonalMessage): void {
    if (message.previousVersion !== this.version) {
      this.gaps += 1;
      return;
    }
    this.version = message.version;
    for (const change of message.changes) {
      this.changes.push(change);
      if ('hold' in change) {
        if (change.hold.status === 'active') this.holds.set(change.hold.reservationId, change.hold);
        else this.holds.delete(change.hold.reservationId);
      } else if (change.entry.status === 'waiting' || change.entry.status === 'offered') this.entries.set(change.entry.id, change.entry);
      else this.entries.delete(change.entry.id);
    }
  }
}
