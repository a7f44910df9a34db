import WebSocket from 'ws';

/** A frame of Phoenix's 2.0.0 serializer: [join_ref, ref, topic, event, payload]. */
export type PhoenixFrame = [string | null, string | null, string, string, Record<string, unknown>];

/** What the upgrade was answered with: an open socket, or an HTTP status and body. */
export type Upgrade = { socket: PhoenixSocket } | { status: number; body: string };

/** What the upgrade of a raw WebSocket to `url` is answered with: open, or an HTTP status and body. */
export function upgradeWebSocket(url: string): Promise<{ opened: WebSocket } | { status: number; body: string }> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ opened: ws }));
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    ws.once('error', (error) => {
      if (!error.message.startsWith('Unexpected server response')) reject(error);
    });
  });
}

/**
 * A raw client of the Supabase-compatible endpoint (vsn 2.0.0) that keeps every
 * text frame exactly as received, so tests can inspect the bytes themselves.
 */
export class PhoenixSocket {
  /** Every frame's text, in arrival order. */
  readonly raw: string[] = [];
  readonly closed: Promise<number>;
  private ref = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.raw.push(data.toString()));
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('error', () => {});
  }

  /** Upgrades `/realtime/v1/websocket?apikey=...&vsn=2.0.0`; `apikey` undefined sends none. */
  static async upgrade(baseUrl: string, apikey: string | undefined): Promise<Upgrade> {
    const url = new URL('/realtime/v1/websocket', baseUrl.replace(/^http/, 'ws'));
    url.searchParams.set('vsn', '2.0.0');
    if (apikey !== undefined) url.searchParams.set('apikey', apikey);
    const result = await upgradeWebSocket(url.href);
    return 'opened' in result ? { socket: new PhoenixSocket(result.opened) } : result;
  }

  /** Opens a socket or fails the test. */
  static async open(baseUrl: string, apikey: string): Promise<PhoenixSocket> {
    const result = await PhoenixSocket.upgrade(baseUrl, apikey);
    if (!('socket' in result)) throw new Error(`upgrade refused: ${result.status} ${result.body}`);
    return result.socket;
  }

  get frames(): PhoenixFrame[] {
    return this.raw.map((text) => JSON.parse(text) as PhoenixFrame);
  }

  /** Joins `realtime:<name>` with `postgres_changes` bindings; resolves to the join reply's payload. */
  async join(
    name: string,
    bindings: Array<{ table: string; filter?: string }>,
    accessToken?: string,
  ): Promise<{ status: string; response: Record<string, unknown> }> {
    const ref = String(++this.ref);
    const topic = `realtime:${name}`;
    const config = { postgres_changes: bindings.map((b) => ({ event: '*', schema: 'public', ...b })) };
    this.send([ref, ref, topic, 'phx_join', { config, ...(accessToken !== undefined && { access_token: accessToken }) }]);
    const reply = await this.next((f) => f[1] === ref && f[3] === 'phx_reply');
    return reply[4] as { status: string; response: Record<string, unknown> };
  }

  /** Replaces a joined channel's token, as supabase-js's setAuth() does. */
  sendAccessToken(name: string, token: string): void {
    const ref = String(++this.ref);
    this.send([null, ref, `realtime:${name}`, 'access_token', { access_token: token }]);
  }

  send(frame: PhoenixFrame): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** The first frame, from the start, that matches; fails after `timeoutMs`. */
  async next(match: (frame: PhoenixFrame) => boolean, timeoutMs = 5000): Promise<PhoenixFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms; got ${this.raw.slice(-3).join(' ')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): void {
    this.ws.close();
  }
}
