import type pg from 'pg';

type Handler = (payload: string) => void;
type ReconnectHandler = () => void;

const RETRY_BASE_MS = 250;
// Viewers must be exact within 5 s of the database returning, and a node hears of
// other nodes' changes only once it listens again: one attempt a second at most.
const RETRY_CAP_MS = 1_000;

/**
 * One dedicated connection for LISTEN (a pooled one would be handed to other
 * queries). If it drops, it reconnects with backoff and listens again on every
 * channel; notifications sent while it was down are lost, so consumers must
 * resync after a reconnect rather than trust the stream.
 */
export class PostgresListener {
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly reconnectHandlers = new Set<ReconnectHandler>();
  /** Whether the connection was ever lost: the first connect is not a reconnect. */
  private wasLost = false;
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private closed = false;

  constructor(
    private readonly createClient: () => pg.Client,
    private readonly onError: (error: Error) => void,
  ) {}

  async listen(channel: string, handler: Handler, onReconnect?: ReconnectHandler): Promise<() => Promise<void>> {
    if (onReconnect) this.reconnectHandlers.add(onReconnect);
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      const client = await this.connection();
      await client.query(`LISTEN "${channel}"`);
    }
    set.add(handler);
    return async () => {
      if (onReconnect) this.reconnectHandlers.delete(onReconnect);
      const current = this.handlers.get(channel);
      if (!current?.delete(handler) || current.size > 0) return;
      this.handlers.delete(channel);
      await this.client?.query(`UNLISTEN "${channel}"`).catch(() => {});
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const client = this.createClient();
    client.on('notification', (message) => {
      for (const handler of this.handlers.get(message.channel) ?? []) handler(message.payload ?? '');
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('LISTEN connection ended')));
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN "${channel}"`);
    this.client = client;
    this.attempt = 0;
    if (this.wasLost) {
      this.wasLost = false;
      for (const handler of this.reconnectHandlers) handler();
    }
    return client;
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    this.wasLost = true;
    this.onError(error);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.handlers.size === 0) return;
    const delay = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** this.attempt++);
    this.retryTimer = setTimeout(() => {
      this.connection().catch((error: Error) => {
        this.onError(error);
        this.scheduleReconnect();
      });
    }, delay);
  }
}
