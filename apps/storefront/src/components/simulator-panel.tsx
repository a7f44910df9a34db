import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiError } from '../api.ts';
import { useQueryStatus } from '../hooks/use-query-status.ts';
import { queries } from '../queries.ts';
import type { SimulatorState } from '../types.ts';
import { RequestStatus } from './request-status.tsx';

const STAT_LABELS: Array<[keyof SimulatorState['stats'], string]> = [
  ['holds', 'Holds'],
  ['purchases', 'Purchases'],
  ['releases', 'Releases'],
  ['expiries', 'Expiries'],
  ['restocks', 'Capacity added'],
  ['refusals', 'Refusals'],
  ['queueJoins', 'Joined a waiting room'],
];

/** Simulated buyer traffic (GET/PUT /api/simulator): a toggle and what it has done so far. */
export function SimulatorPanel() {
  const queryClient = useQueryClient();
  const simulator = useQuery(queries.simulator());
  const status = useQueryStatus(simulator);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const data = simulator.data;

  const toggle = async () => {
    if (!data) return;
    setSaving(true);
    setError(null);
    try {
      const next = await api<SimulatorState>('/api/simulator', { method: 'PUT', auth: 'organizer', body: { running: !data.running } });
      // A poll sent before the PUT would answer with the old state: drop it, then show the PUT's answer.
      await queryClient.cancelQueries({ queryKey: queries.simulator().queryKey });
      queryClient.setQueryData(queries.simulator().queryKey, next);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : 'The simulator did not answer.');
    } finally {
      setSaving(false);
    }
  };

  // Outside demo mode the simulator does not exist (404): say so rather than show an error.
  if (simulator.error?.status === 404) {
    return (
      <p className="message message--muted" data-testid="simulator-demo-only">
        Simulated buyers run only in the demo (<code>ticketpulse start --demo</code>).
      </p>
    );
  }

  return (
    <>
      <RequestStatus {...status} what="the simulator" />
      {data && (
        <>
          <p className="simulator__state">
            <span className={`pill pill--${data.running ? 'available' : 'unavailable'}`}>{data.running ? 'Running' : 'Stopped'}</span>
            <button type="button" className="button" onClick={toggle} disabled={saving}>
              {data.running ? 'Stop simulator' : 'Start simulator'}
            </button>
          </p>
          {error && (
            <p className="message message--error" role="alert">
              {error}
            </p>
          )}
          <dl className="stats" data-testid="simulator-stats">
            {STAT_LABELS.map(([key, label]) => (
              <div key={key}>
                <dt>{label}</dt>
                <dd>{data.stats[key]}</dd>
              </div>
            ))}
          </dl>
        </>
      )}
    </>
  );
}
