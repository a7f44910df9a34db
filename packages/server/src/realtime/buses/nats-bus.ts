import { connect, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { ConfigError } from '../../config.ts';
import { parseSignal, signalPayloads, type ChangeBatch, type ChangeBus } from './change-bus.ts';

const SUBJECT = 'ticketpulse.availability';

/** For larger clusters: nodes signal each other through NATS instead of the database. */
export class NatsChangeBus implements ChangeBus {
  private connection: NatsConnection | undefined;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly url: string,
    private readonly node: string,
    private readonly logger: Logger,
  ) {}

  async start({ onChanged, onMissedSignals }: Parameters<ChangeBus['start']>[0]): Promise<void> {
    const connection = await connect({ servers: this.url, name: `ticketpulse-${this.node}`, maxReconnectAttempts: -1 }).catch((error: unknown) => {
      // A server that cannot be reached at start is a setting to fix: one line (cli.ts), the host without any credentials in the URL.
      const why = (error as { code?: unknown }).code ?? (error as Error).message;
      throw new ConfigError(`cannot connect to the NATS server at ${new URL(this.url).host} (TICKETPULSE_BUS): ${String(why)}`);
    });
    this.connection = connection;
    connection.subscribe(SUBJECT, {
      callback: (error, message) => {
        if (error) return this.logger.warn({ err: error }, 'NATS subscription error');
        const batch = parseSignal(this.decoder.decode(message.data), this.node);
        if (batch) onChanged(batch);
      },
    });
    void (async () => {
      for await (const status of connection.status()) {
        // Anything published while we were away is gone: resync.
        if (status.type === 'reconnect') {
          this.logger.info('NATS connection back; re-reading what changed meanwhile');
          onMissedSignals();
        }
        if (status.type === 'disconnect' || status.type === 'error') this.logger.warn({ status: status.type }, 'NATS connection trouble');
      }
    })();
  }

  async publish(batch: ChangeBatch): Promise<void> {
    for (const payload of signalPayloads(this.node, batch)) this.connection?.publish(SUBJECT, this.encoder.encode(payload));
  }

  async close(): Promise<void> {
    await this.connection?.drain();
  }
}
