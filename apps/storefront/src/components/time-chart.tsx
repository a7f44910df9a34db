/** Drawing units; the SVG stretches to the panel, labels are HTML so they keep their size. */
const WIDTH = 600;
const HEIGHT = 160;

export const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** One slot of time: a bar, and optionally a point of the line drawn over the bars. */
export interface ChartSlot {
  /** The slot's start, ms since the epoch. */
  at: number;
  bar: number;
  /** Null: no reading in this slot, the line has a gap. */
  line?: number | null;
}

export interface TimeChartProps {
  /** Oldest first, one per slot, the current one last. */
  slots: ChartSlot[];
  /** Read by screen readers (and shown below); not announced: both charts' figures change with every sale or poll. */
  summary: string;
  /** Each bar's tooltip. */
  barTitle: (slot: ChartSlot) => string;
  /** The line's name, shown with its scale; no line without it. */
  lineLabel?: string;
}

/**
 * Bars over time, with an optional line on its own scale over them, and a
 * text summary for screen readers and at a glance: the dashboard's charts
 * (SalesChart, the waiting room's).
 */
export function TimeChart({ slots, summary, barTitle, lineLabel }: TimeChartProps) {
  const barScale = Math.max(1, ...slots.map((s) => s.bar));
  const lineScale = Math.max(1, ...slots.map((s) => s.line ?? 0));
  const step = WIDTH / Math.max(1, slots.length);
  const barWidth = Math.max(1, step * 0.75);
  const first = slots[0];
  // The line as runs of consecutive readings: a slot without one breaks it.
  const runs: string[] = [];
  let run: string[] = [];
  slots.forEach((slot, i) => {
    if (slot.line === null || slot.line === undefined) {
      if (run.length > 0) runs.push(run.join(' '));
      run = [];
      return;
    }
    run.push(`${i * step + step / 2},${HEIGHT - (slot.line / lineScale) * (HEIGHT - 2)}`);
  });
  if (run.length > 0) runs.push(run.join(' '));

  return (
    <figure className="time-chart">
      <div className="time-chart__plot">
        <span className="time-chart__max" aria-hidden="true">
          {barScale}
        </span>
        {lineLabel && (
          <span className="time-chart__max time-chart__max--line" aria-hidden="true">
            {lineScale} {lineLabel}
          </span>
        )}
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={summary} className="time-chart__svg">
          <line x1={0} x2={WIDTH} y1={1} y2={1} className="time-chart__grid" vectorEffect="non-scaling-stroke" />
          {slots.map((slot, i) => {
            if (slot.bar === 0) return null;
            const height = (slot.bar / barScale) * (HEIGHT - 2);
            return (
              <rect key={slot.at} x={i * step + (step - barWidth) / 2} y={HEIGHT - height} width={barWidth} height={height} className="time-chart__bar">
                <title>{barTitle(slot)}</title>
              </rect>
            );
          })}
          {runs.map((points) => (
            <polyline key={points} points={points} className="time-chart__line" vectorEffect="non-scaling-stroke" />
          ))}
          <line x1={0} x2={WIDTH} y1={HEIGHT} y2={HEIGHT} className="time-chart__axis" vectorEffect="non-scaling-stroke" />
        </svg>
      </div>
      <div className="time-chart__times" aria-hidden="true">
        <span>{first ? timeFormat.format(first.at) : ''}</span>
        <span>now</span>
      </div>
      <figcaption>{summary}</figcaption>
    </figure>
  );
}
