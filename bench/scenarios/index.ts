/** Every benchmark scenario, in the order docs/benchmarks.md lists them. */
import type { Scenario } from '../harness/scenario.ts';
import { clientSize } from './client-size.ts';
import { fanOut } from './fan-out.ts';
import { connections } from './connections.ts';
import { reconnectStorm } from './reconnect-storm.ts';
import { costGrowth } from './cost-growth.ts';
import { massExpiry } from './mass-expiry.ts';
import { hotHolds } from './hot-holds.ts';
import { queue } from './queue.ts';
import { idleLatency } from './idle-latency.ts';
import { httpHolds } from './http-holds.ts';
import { workersScaling } from './workers-scaling.ts';

export const scenarios: Scenario[] = [hotHolds, fanOut, connections, costGrowth, massExpiry, reconnectStorm, clientSize, queue, idleLatency, httpHolds, workersScaling];
