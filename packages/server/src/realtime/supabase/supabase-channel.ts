import type { Principal } from '../../auth/principal.ts';
import type { Binding } from './channel-join.ts';
import type { FrameHeader } from './phoenix-codec.ts';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Where a channel's frames go: its socket. */
export interface ChannelOutput {
  sendRaw(header: FrameHeader, payloadJson: string): void;
}

/**
 * One joined topic (`realtime:<name>`) of one socket: its bindings and the
 * token that decides what it may see. The token is the join's access_token
 * (else the socket's apikey) and can be replaced with an `access_token`
 * message; when it expires without one, the channel is closed.
 */
export class SupabaseChannel {
  private expiryTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    private readonly output: ChannelOutput,
    readonly topic: string,
    readonly joinRef: string | null,
    readonly bindings: readonly Binding[],
    private current: Principal,
    private readonly onExpired: (channel: SupabaseChannel) => void,
  ) {
    this.scheduleExpiry();
  }

  get principal(): Principal {
    return this.current;
  }

  set principal(principal: Principal) {
    this.current = principal;
    this.scheduleExpiry();
  }

  /** A change for the given bindings of this channel; `dataJson` is shared by every channel that gets the same view of it. */
  sendChange(ids: readonly number[], dataJson: string): void {
    this.output.sendRaw(this.header('postgres_changes'), `{"ids":[${ids.join(',')}],"data":${dataJson}}`);
  }

  /** A message on this channel's topic that answers nothing (ref null). */
  header(event: string): FrameHeader {
    return { topic: this.topic, event, ref: null, joinRef: this.joinRef };
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.expiryTimer);
  }

  /** Re-armed until the token's expiry has passed: a timer holds at most ~24.8 days. */
  private scheduleExpiry(): void {
    clearTimeout(this.expiryTimer);
    // A channel that was left holds no timer, and nothing that keeps it in memory.
    if (this.disposed) return;
    const left = this.current.expiresAt - Date.now();
    if (left <= 0) return this.onExpired(this);
    this.expiryTimer = setTimeout(() => this.scheduleExpiry(), Math.min(left, MAX_TIMER_MS)).unref();
  }
}
