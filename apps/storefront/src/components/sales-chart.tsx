import { plural } from '../format.ts';

/** Drawing units; the SVG stretches to the panel, labels are HTML so they keep their size. */
const WIDTH = 600;
const HEIGHT = 160;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** Seats sold per minute as SVG bars, with a text summary for screen readers and at a glance. */
export function SalesChart({ buckets }: { buckets: Array<{ minute: number; sold: number }> }) {
  const total = buckets.reduce((sum, b) => sum + b.sold, 0);
  const lastFive = buckets.slice(-5).reduce((sum, b) => sum + b.sold, 0);
  const busiest = Math.max(0, ...buckets.map((b) => b.sold));
  const scale = Math.max(1, busiest);
  const step = WIDTH / Math.max(1, buckets.length);
  const barWidth = Math.max(1, step * 0.75);
  const first = buckets[0];
  const summary = `${plural(total, 'seat')} sold in the last ${buckets.length} minutes, ${lastFive} in the last 5 minutes; busiest minute ${busiest}.`;

  return (
    <figure className="sales-chart">
      <div className="sales-chart__plot">
        <span className="sales-chart__max" aria-hidden="true">
          {scale}
        </span>
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={summary} className="sales-chart__svg">
          <line x1={0} x2={WIDTH} y1={1} y2={1} className="sales-chart__grid" vectorEffect="non-scaling-stroke" />
          {buckets.map((bucket, i) => {
            if (bucket.sold === 0) return null;
            const height = (bucket.sold / scale) * (HEIGHT - 2);
            return (
              <rect key={bucket.minute} x={i * step + (step - barWidth) / 2} y={HEIGHT - height} width={barWidth} height={height} className="sales-chart__bar">
                <title>{`${timeFormat.format(bucket.minute)}: ${plural(bucket.sold, 'seat')}`}</title>
              </rect>
            );
          })}
          <line x1={0} x2={WIDTH} y1={HEIGHT} y2={HEIGHT} className="sales-chart__axis" vectorEffect="non-scaling-stroke" />
        </svg>
      </div>
      <div className="sales-chart__times" aria-hidden="true">
        <span>{first ? timeFormat.format(first.minute) : ''}</span>
        <span>now</span>
      </div>
      <figcaption aria-live="polite">{summary}</figcaption>
    </figure>
  );
}
