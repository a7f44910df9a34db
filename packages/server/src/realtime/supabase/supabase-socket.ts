import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import { ApiError } from '../../api-error.ts';
import type { Principal } from '../../auth/principal.ts';
import type { TokenVerifier } from '../../auth/token-verifier.ts';
import type { TokenBucket } from '../limits.ts';
import { parseJoin } from './channel-join.ts';
import { decodeBinaryHeader, decodeText, encodeRaw, type FrameHeader, type PhoenixMessage, type Vsn } from './phoenix-codec.ts';
import { Serial } from './serial.ts';
import { SupabaseChannel } from './supabase-channel.ts';
import type { TableColumns } from '../../supabase/tables.ts';

/** Close codes: Phoenix clients reconnect after any close but a clean 1000. */
export const SocketClose = {
  invalidFrame: 1007,
  rateLimited: 1008,
  idle: 1001,
  slowConsumer: 1013,
} as const;

export interface SocketLimits {
  maxChannels: number;
  /** Past this many unsent bytes the socket is closed: change messages are never skipped. */
  hardBufferBytes: number;
}

/** What a socket needs from its endpoint. */
export interface SocketHost {
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  readonly limits: SocketLimits;
  columns(): TableColumns;
  nextBindingId(): number;
  /** Registers a channel's bindings; resolves once changes committed from now on will reach it. */
  join(channel: SupabaseChannel): Promise<void>;
  /** Unregisters a channel (no-op when it is not registered). */
  leave(channel: SupabaseChannel): void;
}

type Reply = { status: 'ok'; response: Record<string, unknown> } | { status: 'error'; response: { reason: string } };

/**
 * One Supabase Realtime client connection: Phoenix channels over a WebSocket.
 * Handles heartbeat, phx_join, phx_leave and access_token; change messages
 * come from the endpoint's tick through each joined channel.
 */
export class SupabaseSocket {
  private readonly channels = new Map<string, SupabaseChannel>();
  private readonly inOrder = new Serial();
  /** When the client last sent anything: Phoenix clients heartbeat, so silence means a dead peer. */
  lastSeen = Date.now();

  constructor(
    readonly ws: WebSocket,
    /** The TCP (or TLS) socket under `ws`: the shutdown's shared close frame is written to it as is (shutdown.ts). */
    readonly wire: Duplex,
    readonly vsn: Vsn,
    /** From the connection's apikey: channels use it when their join carries no access_token. */
    private readonly principal: Principal,
    private readonly host: SocketHost,
    /** Its inbound message budget (Admission). */
    private readonly bucket: TokenBucket,
  ) {
    ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    ws.on('close', () => {
      for (const channel of this.channels.values()) this.drop(channel);
    });
  }

  get channelCount(): number {
    return this.channels.size;
  }

  sendRaw(header: FrameHeader, payloadJson: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.host.limits.hardBufferBytes) return this.close(SocketClose.slowConsumer, 'slow consumer');
    this.ws.send(encodeRaw(this.vsn, header, payloadJson));
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState !== this.ws.OPEN && this.ws.readyState !== this.ws.CONNECTING) return;
    this.ws.close(code, reason);
    // A peer that never answers the close must not hold the socket open.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  private send(message: PhoenixMessage): void {
    this.sendRaw(message, JSON.stringify(message.payload));
  }

  private reply(to: PhoenixMessage, reply: Reply): void {
    this.send({ topic: to.topic, event: 'phx_reply', payload: reply, ref: to.ref, joinRef: to.joinRef });
  }

  private refuse(to: PhoenixMessage, reason: string): void {
    this.reply(to, { status: 'error', response: { reason } });
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    this.lastSeen = Date.now();
    if (!this.bucket.take()) return this.close(SocketClose.rateLimited, 'rate limited');
    const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
    if (isBinary) {
      const header = decodeBinaryHeader(bytes);
      if (!header) return this.close(SocketClose.invalidFrame, 'unsupported binary frame');
      void this.inOrder.run(async () => this.refuse({ ...header, payload: {} }, 'Broadcast is not supported by TicketPulse: only postgres_changes'));
      return;
    }
    const decoded = decodeText(this.vsn, bytes.toString('utf8'));
    if (!decoded.ok) return this.close(SocketClose.invalidFrame, decoded.reason.slice(0, 120));
    // One message at a time, in order, as a Phoenix socket does: a join's token check and
    // registration wait, so a leave, an access_token or another join of the topic sent
    // right after it apply to the joined channel, and concurrent joins cannot pass the channel limit.
    this.inOrder
      .run(() => this.handle(decoded.message))
      .catch((error: unknown) => {
        this.host.logger.error({ err: error }, 'supabase realtime message failed');
        this.refuse(decoded.message, 'Something went wrong on our side; retry');
      });
  }

  private async handle(message: PhoenixMessage): Promise<void> {
    const { topic, event } = message;
    if (topic === 'phoenix') {
      if (event === 'heartbeat') return this.reply(message, { status: 'ok', response: {} });
      return this.refuse(message, `Unknown event "${event}" on topic phoenix`);
    }
    if (event === 'phx_join') return this.join(message);
    const channel = this.channels.get(topic);
    if (!channel) return this.refuse(message, 'unmatched topic');
    switch (event) {
      case 'phx_leave':
        this.drop(channel);
        this.reply(message, { status: 'ok', response: {} });
        return this.send({ ...channel.header('phx_close'), payload: {} });
      case 'access_token':
        return this.refreshToken(channel, message);
      case 'broadcast':
      case 'presence':
        return this.refuse(message, `${event} is not supported by TicketPulse: only postgres_changes`);
      default:
        return this.refuse(message, `Unknown event "${event}"`);
    }
  }

  private async join(message: PhoenixMessage): Promise<void> {
    const { topic } = message;
    if (!topic.startsWith('realtime:')) return this.refuse(message, 'Topics are realtime:<channel name>');
    const previous = this.channels.get(topic);
    // Joining a joined topic again replaces it, as Phoenix does.
    if (previous) this.drop(previous);
    if (this.channels.size >= this.host.limits.maxChannels) {
      return this.refuse(message, `Too many channels: at most ${this.host.limits.maxChannels} per connection`);
    }
    const request = parseJoin(message.payload, this.host.columns(), () => this.host.nextBindingId());
    if (!request.ok) return this.refuse(message, request.reason);
    let principal = this.principal;
    if (request.accessToken !== undefined) {
      const verified = await this.verify(request.accessToken);
      if (!verified.ok) return this.refuse(message, verified.reason);
      principal = verified.principal;
    }
    // The connection's apikey may have expired since the handshake: it no longer opens channels.
    if (principal.expiresAt <= Date.now()) return this.refuse(message, 'Token has expired');
    const channel = new SupabaseChannel(this, topic, message.joinRef, request.bindings, principal, (c) => this.expire(c));
    this.channels.set(topic, channel);
    try {
      await this.host.join(channel);
    } catch (error) {
      this.drop(channel);
      throw error;
    }
    // Disconnected, or its token ran out (the channel was closed, with a system message), while it was being registered.
    if (this.channels.get(topic) !== channel || this.ws.readyState !== this.ws.OPEN) {
      this.host.leave(channel);
      return this.refuse(message, 'Token has expired');
    }
    this.reply(message, { status: 'ok', response: request.echo ? { postgres_changes: request.echo } : {} });
    if (request.bindings.length > 0) this.system(channel, 'postgres_changes', 'ok', 'Subscribed to PostgreSQL');
  }

  private async refreshToken(channel: SupabaseChannel, message: PhoenixMessage): Promise<void> {
    const token = message.payload.access_token;
    // Clients send null when they sign out of a session: the channel keeps the token it has.
    if (typeof token !== 'string') return this.reply(message, { status: 'ok', response: {} });
    const verified = await this.verify(token);
    // Closed while the token was checked (its old token ran out).
    if (this.channels.get(channel.topic) !== channel) return this.refuse(message, 'unmatched topic');
    if (!verified.ok) {
      // Answered like every message, then the channel ends as when its token expires.
      this.refuse(message, verified.reason);
      return this.shutdown(channel, verified.reason);
    }
    channel.principal = verified.principal;
    this.reply(message, { status: 'ok', response: {} });
  }

  private async verify(token: string): Promise<{ ok: true; principal: Principal } | { ok: false; reason: string }> {
    try {
      return { ok: true, principal: await this.host.verifier.verify(token) };
    } catch (error) {
      return { ok: false, reason: error instanceof ApiError && error.code === 'token_expired' ? 'Token has expired' : 'Invalid token' };
    }
  }

  private expire(channel: SupabaseChannel): void {
    this.shutdown(channel, 'Token has expired');
  }

  /** Ends a channel from the server's side: a system message says why, then phx_close. */
  private shutdown(channel: SupabaseChannel, reason: string): void {
    if (this.channels.get(channel.topic) !== channel) return;
    this.drop(channel);
    this.system(channel, 'system', 'error', reason);
    this.send({ ...channel.header('phx_close'), payload: {} });
  }

  private system(channel: SupabaseChannel, extension: string, status: 'ok' | 'error', text: string): void {
    const name = channel.topic.slice('realtime:'.length);
    this.send({ ...channel.header('system'), payload: { extension, status, message: text, channel: name } });
  }

  private drop(channel: SupabaseChannel): void {
    if (this.channels.get(channel.topic) === channel) this.channels.delete(channel.topic);
    channel.dispose();
    this.host.leave(channel);
  }
}
