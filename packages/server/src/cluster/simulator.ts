import type { SimulatorStatus } from '@ticketpulse/protocol';
import { ApiError } from '../api-error.ts';
import type { SimulatorControl } from '../http/routes/simulator.ts';
import type { WorkerGather } from './worker-gather.ts';

const SIMULATOR = 'simulator';
type Action = 'status' | 'start' | 'stop';

const isStatus = (part: unknown): part is SimulatorStatus => typeof part === 'object' && part !== null && typeof (part as SimulatorStatus).running === 'boolean';

/**
 * The demo's simulated buyers are one crowd whatever the number of workers:
 * worker 0's simulator. It answers every worker's /api/simulator through the
 * primary (cluster/worker-gather.ts), so whichever worker takes a request
 * reads and switches that one.
 */
export function provideSimulator(gather: WorkerGather, simulator: SimulatorControl): void {
  gather.provide(SIMULATOR, async (action) => {
    if (action === 'start') await simulator.start();
    if (action === 'stop') await simulator.stop();
    return simulator.status();
  });
}

/** In any worker: /api/simulator acts on worker 0's simulator; 503 while that worker is being replaced. */
export function workersSimulator(gather: WorkerGather): SimulatorControl {
  const ask = async (action: Action): Promise<SimulatorStatus> => {
    const status = (await gather.gather(SIMULATOR, action)).find(isStatus);
    if (!status) throw new ApiError(503, 'simulator_unavailable', 'The worker that runs the buyer simulator is restarting; retry', { retryAfterSeconds: 1 });
    return status;
  };
  return {
    status: () => ask('status'),
    start: async () => void (await ask('start')),
    stop: async () => void (await ask('stop')),
  };
}
