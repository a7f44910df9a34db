/** Child processes for the tarball test: commands that must succeed, and programs that run until stopped. Every wait is bounded. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * The environment for children: without the npm_* variables `npm run` sets,
 * so npm in a temporary project behaves as it would for a user there.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs a command to completion; rejects with its output when it fails or outlasts `timeoutMs`. */
export function run(command: string, args: string[], options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? cleanEnv(), timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const why = error.killed ? `did not finish within ${options.timeoutMs / 1000} s` : `failed (${error.code ?? error.signal})`;
        reject(new Error(`\`${command} ${args.join(' ')}\` in ${options.cwd} ${why}:\n${stdout}\n${stderr}`));
      },
    );
  });
}

/** A program that runs until stopped, its output kept for waits and failure messages. */
export class Program {
  readonly child: ChildProcess;
  private out = '';
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    options: { cwd: string; env?: NodeJS.ProcessEnv },
  ) {
    this.child = spawn(command, args, { cwd: options.cwd, env: options.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk: Buffer) => {
      this.out += chunk.toString();
      for (const wake of this.waiters) wake();
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.child.on('exit', () => {
      for (const wake of this.waiters) wake();
    });
  }

  output(): string {
    return this.out;
  }

  /** Resolves with the first match of `pattern` in the output written after `from` (an offset into output()). */
  waitFor(pattern: RegExp, what: string, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(this.out.slice(from));
        if (match) return done(() => resolve(match));
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done(() => reject(new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}. Its output:\n${this.out}`)));
        }
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs / 1000} s. Its output:\n${this.out}`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 100 ms until it returns a value; rejects after `timeoutMs` with `what` and the last error. */
export async function poll<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs / 1000} s${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
