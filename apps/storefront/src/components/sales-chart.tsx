import { plural } from '../format.ts';
import { TimeChart, timeFormat } from './time-chart.tsx';

/** Seats sold per minute as bars, with a text summary for screen readers and at a glance. */
export function SalesChart({ buckets }: { buckets: Array<{ minute: number; sold: number }> }) {
  const total = buckets.reduce((sum, b) => sum + b.sold, 0);
  const lastFive = buckets.slice(-5).reduce((sum, b) => sum + b.sold, 0);
  const busiest = Math.max(0, ...buckets.map((b) => b.sold));
  const summary = `${plural(total, 'seat')} sold in the last ${buckets.length} minutes, ${lastFive} in the last 5 minutes; busiest minute ${busiest}.`;
  return (
    <TimeChart
      slots={buckets.map((b) => ({ at: b.minute, bar: b.sold }))}
      summary={summary}
      barTitle={(slot) => `${timeFormat.format(slot.at)}: ${plural(slot.bar, 'seat')}`}
    />
  );
}
