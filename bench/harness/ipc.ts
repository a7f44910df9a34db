/**
 * Request and reply over a worker's IPC channel. Each request carries an id
 * that its reply repeats, because a worker keeps every message it ever sent
 * and the same kind of reply comes back many times in one run.
 */
import { report, type Worker } from './workers.ts';

export interface Reply {
  id: number;
  /** Set when the worker's handler threw. */
  error?: string;
}

export interface Command {
  type: string;
  [field: string]: unknown;
}

let nextId = 1;

/** Sends `command` and resolves with the worker's reply to it. */
export async function ask<R extends Reply>(worker: Worker<Reply>, command: Command, timeoutMs = 120_000): Promise<R> {
  const id = nextId++;
  worker.send({ ...command, id });
  const reply = await worker.next((m: Reply): m is R => m.id === id, timeoutMs);
  if (reply.error) throw new Error(`worker failed on ${command.type}: ${reply.error}`);
  return reply;
}

interface Ready {
  type: 'ready';
}

/**
 * Resolves once the worker is serving. A message that reaches a worker before
 * it listens is lost, so nobody may ask before this.
 */
export async function awaitReady(worker: Worker<Reply>, timeoutMs = 60_000): Promise<void> {
  await worker.next((m: Reply): m is Reply & Ready => (m as Partial<Ready>).type === 'ready', timeoutMs);
}

/**
 * In a worker: answers every request (any message with an id) with what
 * `handler` returns, then says it is ready, with `details` (a server's URL).
 */
export function serve<C extends Command>(handler: (command: C) => Promise<object> | object, details: object = {}): void {
  process.on('message', (message: C & { id?: number }) => {
    const id = message.id;
    if (typeof id !== 'number') return; // the init message
    Promise.resolve()
      .then(() => handler(message))
      .then(
        (answer) => report({ ...answer, id }),
        (error: unknown) => report({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  report({ type: 'ready', ...details });
}
