/**
 * Load generators run as separate Node processes (tsx), so their CPU is not
 * the server's. A worker talks to the runner over IPC: it is started with a
 * JSON `init` message and sends JSON messages back.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface Worker<Out> {
  child: ChildProcess;
  send(message: unknown): void;
  /** Resolves with the next message that satisfies `match`. */
  next<T extends Out>(match: (message: Out) => message is T, timeoutMs?: number): Promise<T>;
  /** Every message so far, in order. */
  messages: Out[];
  stop(): Promise<void>;
}

export interface WorkerOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra node flags, e.g. `--cpu-prof` or `--max-old-space-size=4096`. */
  nodeArgs?: string[];
}

export function startWorker<Out>(script: string, init: unknown, options: WorkerOptions = {}): Worker<Out> {
  const child = fork(script, [], {
    // The workspace packages' sources, as tsc, Vite and vitest resolve them (their exports' "@ticketpulse/source" condition).
    execArgv: ['--conditions=@ticketpulse/source', '--import', 'tsx', ...(options.nodeArgs ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const messages: Out[] = [];
  const waiters = new Set<(message: Out) => void>();
  child.on('message', (message) => {
    messages.push(message as Out);
    for (const waiter of [...waiters]) waiter(message as Out);
  });
  child.send({ type: 'init', init });

  return {
    child,
    messages,
    send: (message) => child.send(message as never),
    next<T extends Out>(match: (message: Out) => message is T, timeoutMs = 120_000): Promise<T> {
      const seen = messages.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`${script}: no answer within ${timeoutMs / 1000}s`)), timeoutMs);
        const onExit = (code: number | null) => finish(new Error(`${script} exited (${code}) before answering`));
        const waiter = (message: Out) => {
          if (match(message)) finish(undefined, message);
        };
        function finish(error?: Error, message?: T) {
          clearTimeout(timer);
          waiters.delete(waiter);
          child.off('exit', onExit);
          if (error) reject(error);
          else resolve(message!);
        }
        waiters.add(waiter);
        child.once('exit', onExit);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}

/** In a worker: the init message, and a typed way to answer. */
export async function workerInit<In>(): Promise<In> {
  const [message] = (await once(process, 'message')) as [{ type: 'init'; init: In }];
  return message.init;
}

export function report(message: unknown): void {
  process.send?.(message);
}
