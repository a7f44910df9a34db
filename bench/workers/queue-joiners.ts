/**
 * A load generator for the waiting room's HTTP joins, in a process of its
 * own: it mints a token with a distinct `sub` per join beforehand (the shop
 * mints guest tokens the same way, with the gateway's secret), then keeps
 * `concurrency` requests in flight over keep-alive connections, each the
 * next visitor's POST /api/events/:id/queue/entries. The `bare` mode sends
 * GET /healthz the same way: the gateway's HTTP ceiling, as a baseline.
 */
import { Agent, request } from 'node:http';
import { TokenVerifier } from '../../packages/server/src/auth/token-verifier.ts';
import { LatencyHistogram, type Buckets } from '../harness/histogram.ts';
import { serve, type Command } from '../harness/ipc.ts';
import { workerInit } from '../harness/workers.ts';

export interface JoinersInit {
  /** The gateway's base URL. */
  url: string;
  eventId: string;
  jwtSecret: string;
  /** Makes this process's visitors' subs distinct from every other's. */
  prefix: string;
  concurrency: number;
}

export type JoinersCommand = (Command & { type: 'mint'; count: number }) | (Command & { type: 'run'; mode: 'join' | 'bare'; ms: number });

export interface JoinersResult {
  /** Answers by HTTP status. */
  statuses: Record<number, number>;
  seconds: number;
  latency: Buckets;
  /** Joins that found no token left (mint more). */
  unminted: number;
}

const init = await workerInit<JoinersInit>();
const signer = new TokenVerifier(init.jwtSecret);
const agent = new Agent({ keepAlive: true, maxSockets: init.concurrency });
const base = new URL(init.url);
const tokens: string[] = [];
let used = 0;

function send(method: string, path: string, token: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: base.hostname, port: base.port, method, path, agent, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function run(mode: 'join' | 'bare', ms: number): Promise<JoinersResult> {
  const statuses: Record<number, number> = {};
  const latency = new LatencyHistogram();
  let unminted = 0;
  const stopAt = performance.now() + ms;
  const started = performance.now();
  const lane = async () => {
    while (performance.now() < stopAt) {
      const token = mode === 'join' ? tokens[used++] : undefined;
      if (mode === 'join' && token === undefined) {
        unminted += 1;
        return;
      }
      const t0 = performance.now();
      const status = await send(mode === 'join' ? 'POST' : 'GET', mode === 'join' ? `/api/events/${init.eventId}/queue/entries` : '/healthz', token);
      latency.record(performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: init.concurrency }, lane));
  return { statuses, seconds: (performance.now() - started) / 1000, latency: latency.buckets(), unminted };
}

serve<JoinersCommand>(async (command) => {
  if (command.type === 'mint') {
    for (let i = 0; i < command.count; i += 1) {
      tokens.push((await signer.sign({ userId: `${init.prefix}-${tokens.length}`, role: 'anon' }, 3600)).token);
    }
    return { minted: tokens.length };
  }
  return run(command.mode, command.ms);
});
