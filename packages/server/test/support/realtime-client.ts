import type { ServerMessage } from '@ticketpulse/protocol';
import WebSocket from 'ws';

export interface Closed {
  code: number;
  reason: string;
}

/** A real WebSocket client that records what it receives, for tests. */
export class TestSocket {
  readonly received: ServerMessage[] = [];
  readonly closed: Promise<Closed>;
  private cursor = 0;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(data.toString()) as ServerMessage);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => {});
  }

  /** Connects to `${baseUrl}/realtime` with the given query (token, session). */
  static async open(baseUrl: string, query: Record<string, string> = {}, options: WebSocket.ClientOptions = {}): Promise<TestSocket> {
    const url = new URL('/realtime', baseUrl.replace(/^http/, 'ws'));
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const socket = new TestSocket(new WebSocket(url, options));
    await new Promise<void>((resolve, reject) => {
      socket.ws.once('open', () => resolve());
      socket.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      socket.ws.once('error', reject);
    });
    return socket;
  }

  /** Connects with a token and waits for `welcome`. */
  static async connect(baseUrl: string, token: string, query: Record<string, string> = {}): Promise<TestSocket> {
    const socket = await TestSocket.open(baseUrl, { token, ...query });
    await socket.next((m) => m.type === 'welcome');
    return socket;
  }

  send(message: object | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message (after those already taken) that matches; fails after `timeoutMs`. */
  async next<T extends ServerMessage = ServerMessage>(match: (m: ServerMessage) => boolean, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.received.length) {
        const message = this.received[this.cursor++]!;
        if (match(message)) return message as T;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.received.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Subscribes and returns the `subscribed` answer. */
  async subscribe(eventId: string, sinceVersion?: number) {
    const ref = Math.random().toString(36).slice(2);
    this.send({ type: 'subscribe', eventId, ref, ...(sinceVersion === undefined ? {} : { sinceVersion }) });
    return this.next((m) => 'ref' in m && m.ref === ref);
  }

  close(): void {
    this.ws.close();
  }
}
