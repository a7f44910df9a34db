import type { ServerMessage } from '@ticketpulse/protocol';
import type { WebSocketLike } from '../../src/types.ts';

/** A stand-in for the network (the edge we do not own): tests play the server's part. */
export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = [];
  /** When true, every connection fails as soon as it is made. */
  static refuse = false;

  readyState = 0;
  readonly sent: unknown[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
    queueMicrotask(() => {
      if (FakeWebSocket.refuse) return this.close(1006, 'refused');
      this.readyState = 1;
      this.onopen?.({});
    });
  }

  static reset(): void {
    FakeWebSocket.instances = [];
    FakeWebSocket.refuse = false;
  }

  static get last(): FakeWebSocket {
    return FakeWebSocket.instances[FakeWebSocket.instances.length - 1]!;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** The server says something. */
  receive(message: ServerMessage): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  welcome(heartbeatMs = 15_000): void {
    this.receive({
      type: 'welcome',
      connectionId: 'c1',
      serverTime: new Date().toISOString(),
      heartbeatMs,
      limits: { maxSubscriptions: 10, maxMessagesPerSecond: 20, maxFrameBytes: 16384 },
    });
  }
}
