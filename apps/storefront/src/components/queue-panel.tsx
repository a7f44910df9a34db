import { useId, useState, type FormEvent } from 'react';
import { ApiError } from '../api.ts';
import { formatCountdown, plural } from '../format.ts';
import { useNow } from '../hooks/use-now.ts';
import { notANumber, wholeNumber } from '../number-fields.ts';
import { useOrganizerQueue, type OrganizerQueue, type QueueSlot } from '../hooks/use-organizer-queue.ts';
import type { Queue } from '../types.ts';
import { OutcomeLine, type Outcome } from './form-outcome.tsx';
import { RequestStatus } from './request-status.tsx';
import { TimeChart, timeFormat } from './time-chart.tsx';


const STATUS_TEXT: Record<Queue['status'], string> = {
  prequeue: 'Pre-queue',
  open: 'Admitting',
  paused: 'Paused',
  held_out: 'Waiting for held seats',
  sold_out: 'Sold out',
  closed: 'Closed',
};
const STATUS_PILL: Record<Queue['status'], string> = {
  prequeue: 'low',
  open: 'available',
  paused: 'unavailable',
  held_out: 'low',
  sold_out: 'sold-out',
  closed: 'unavailable',
};

/** Input refused here, before any request, in words for the field. */
class Refused extends Error {}

/** The form's failure as shown: our own refusal, or the API's (its message, in the shop's words). */
const failed = (failure: unknown): Outcome => ({
  kind: 'error',
  message: failure instanceof Refused || failure instanceof ApiError ? failure.message : 'Saving failed. Please retry.',
});

/** A whole number from `min` to `max` (the API's bounds, docs/waiting-room.md), else Refused(`message`). */
function whole(text: string, min: number, max: number, message: string): number {
  const value = wholeNumber(text, min, max);
  if (value === undefined) throw new Refused(message);
  return value;
}

/** The same, or null ("no cap") when empty. */
const wholeOrNone = (text: string, min: number, max: number, message: string): number | null => (text.trim() === '' ? null : whole(text, min, max, message));

const CAP_MESSAGE = 'Active shoppers at most: enter a whole number from 1 to 10,000,000, or leave it empty for no cap.';
const RATE_MESSAGE = 'Admit per minute: enter a whole number from 1 to 1,000,000.';
const admitRate = (text: string) => whole(text, 1, 1_000_000, RATE_MESSAGE);
const shopperCap = (text: string) => wholeOrNone(text, 1, 10_000_000, CAP_MESSAGE);

/**
 * The organizer's waiting-room panel (docs/waiting-room.md, "The dashboard
 * panel"): the live figures and a chart of the line and admissions, the rate
 * and cap, pause and resume; for an event without one, a form that sets one up.
 */
export function QueuePanel({ slug }: { slug: string }) {
  const room = useOrganizerQueue(slug);
  if (room.absent) return <QueueSetUpForm room={room} />;
  return (
    <>
      <RequestStatus {...room.status} what="the waiting room" />
      {room.queue && (
        <>
          <QueueFigures queue={room.queue} />
          <QueueChart history={room.history} />
          <QueueControls room={room} queue={room.queue} />
        </>
      )}
    </>
  );
}

function QueueFigures({ queue }: { queue: Queue }) {
  const now = useNow(1000, queue.status === 'prequeue');
  const measured = queue.measuredAdmitPerMinute === null ? '—' : String(Math.round(queue.measuredAdmitPerMinute * 10) / 10);
  const figures: Array<[string, string, string]> = [
    ['length', 'In line', String(queue.length)],
    ['admitted', 'Admitted', String(queue.admitted)],
    ['active', 'Active shoppers', queue.maxActiveShoppers === null ? String(queue.activeShoppers) : `${queue.activeShoppers} / ${queue.maxActiveShoppers}`],
    ['served', 'Served up to', `${queue.servedUpTo} of ${queue.lastPosition}`],
    ['rate', 'Admitted per minute', `${measured} (set ${queue.admitPerMinute})`],
    ['abandoned', 'Abandoned', String(queue.abandoned)],
    ['seats', 'Seats per order', queue.seatsPerOrder === null ? '—' : String(queue.seatsPerOrder)],
    ['wait', 'Wait for the last in line', queue.estimatedWaitSeconds === null ? '—' : formatCountdown(queue.estimatedWaitSeconds * 1000)],
  ];
  return (
    <>
      <p className="queue-panel__status" data-testid="queue-status">
        <span className={`pill pill--${STATUS_PILL[queue.status]}`}>{STATUS_TEXT[queue.status]}</span>{' '}
        {queue.status === 'prequeue' ? (
          <span>
            opens at {timeFormat.format(Date.parse(queue.opensAt))}, in <span data-testid="queue-opens-in">{formatCountdown(Date.parse(queue.opensAt) - now)}</span>
          </span>
        ) : (
          <span className="muted">opened at {timeFormat.format(Date.parse(queue.opensAt))}</span>
        )}
      </p>
      <dl className="stats" data-testid="queue-figures">
        {figures.map(([key, label, value]) => (
          <div key={key}>
            <dt>{label}</dt>
            <dd data-stat={key}>{value}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}

function QueueChart({ history }: { history: QueueSlot[] }) {
  const admitted = history.reduce((sum, slot) => sum + slot.admitted, 0);
  const last = [...history].reverse().find((slot) => slot.length !== null);
  const summary = `${plural(admitted, 'visitor')} admitted since the panel opened (last 10 minutes); ${last ? `${last.length} in line now` : 'no reading yet'}. Bars: admitted per 10 s; line: in line.`;
  return (
    <TimeChart
      slots={history.map((slot) => ({ at: slot.at, bar: slot.admitted, line: slot.length }))}
      summary={summary}
      lineLabel="in line"
      barTitle={(slot) => `${timeFormat.format(slot.at)}: ${plural(slot.bar, 'admission')}`}
    />
  );
}

function QueueControls({ room, queue }: { room: OrganizerQueue; queue: Queue }) {
  const id = useId();
  // Drafts: null shows the setting as it is now (changed elsewhere too), until edited.
  const [rateDraft, setRate] = useState<string | null>(null);
  const [capDraft, setCap] = useState<string | null>(null);
  const rate = rateDraft ?? String(queue.admitPerMinute);
  const cap = capDraft ?? (queue.maxActiveShoppers === null ? '' : String(queue.maxActiveShoppers));
  const [saving, setSaving] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);

  const run = async (what: string, change: () => Parameters<OrganizerQueue['change']>[0]) => {
    setSaving(true);
    setOutcome(null);
    try {
      await room.change(change());
      setRate(null);
      setCap(null);
      setOutcome({ kind: 'saved', what });
    } catch (failure) {
      setOutcome(failed(failure));
    } finally {
      setSaving(false);
    }
  };
  const save = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const unreadable = notANumber(e.currentTarget);
    void run('Saved', () => {
      if (unreadable) throw new Refused(unreadable);
      return { admitPerMinute: admitRate(rate), maxActiveShoppers: shopperCap(cap) };
    });
  };
  const finished = queue.status === 'sold_out' || queue.status === 'closed';

  return (
    <form className="queue-panel__controls" onSubmit={save} noValidate>
      <label htmlFor={`${id}-rate`}>Admit per minute</label>
      <input id={`${id}-rate`} className="input queue-panel__input" type="number" inputMode="numeric" min={1} step={1} value={rate} onChange={(e) => setRate(e.target.value)} />
      <label htmlFor={`${id}-cap`}>Active shoppers at most</label>
      <input
        id={`${id}-cap`}
        className="input queue-panel__input"
        type="number"
        inputMode="numeric"
        min={1}
        step={1}
        placeholder="No cap"
        value={cap}
        onChange={(e) => setCap(e.target.value)}
      />
      <button type="submit" className="button button--small" disabled={saving}>
        {saving ? 'Saving…' : 'Save rate and cap'}
      </button>
      <button
        type="button"
        className="button button--small"
        disabled={saving || finished}
        onClick={() => void run(queue.paused ? 'Admission resumed' : 'Admission paused', () => ({ paused: !queue.paused }))}
      >
        {queue.paused ? 'Resume admission' : 'Pause admission'}
      </button>
      <OutcomeLine outcome={outcome} hint="Changes apply at the next admission tick." />
    </form>
  );
}

/** A datetime-local input's value for a time: local, to the minute. */
function localMinute(ms: number): string {
  const date = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function QueueSetUpForm({ room }: { room: OrganizerQueue }) {
  const id = useId();
  const [opensAt, setOpensAt] = useState(() => localMinute(Date.now() + 10 * 60_000));
  const [prequeue, setPrequeue] = useState('30');
  const [rate, setRate] = useState('60');
  const [cap, setCap] = useState('');
  const [pass, setPass] = useState('600');
  const [saving, setSaving] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const unreadable = notANumber(e.currentTarget);
    setSaving(true);
    setOutcome(null);
    try {
      if (unreadable) throw new Refused(unreadable);
      const opens = Date.parse(opensAt);
      if (Number.isNaN(opens)) throw new Refused('Opens at: pick a date and time.');
      await room.setUp({
        opensAt: new Date(opens).toISOString(),
        prequeueMinutes: whole(prequeue, 0, 10_080, 'Pre-queue: enter whole minutes from 0 to 10,080 (a week).'),
        admitPerMinute: admitRate(rate),
        maxActiveShoppers: shopperCap(cap),
        passSeconds: whole(pass, 1, 86_400, 'Pass: enter whole seconds from 1 to 86,400 (a day).'),
      });
    } catch (failure) {
      setOutcome(failed(failure));
    } finally {
      setSaving(false);
    }
  };

  const field = (key: string, label: string, value: string, set: (v: string) => void, extra: Record<string, string | number> = {}) => (
    <div className="queue-panel__field">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <input id={`${id}-${key}`} className="input" value={value} onChange={(e) => set(e.target.value)} {...extra} />
    </div>
  );
  const number = { type: 'number', inputMode: 'numeric', step: 1 };

  return (
    <>
      <p className="message message--muted" data-testid="queue-absent">
        No waiting room in front of this event: buyers hold directly. For a high-demand on-sale, let them in at a set pace.
      </p>
      <details className="queue-panel__details">
        <summary>Set up a waiting room</summary>
        <form className="queue-panel__setup" onSubmit={submit} noValidate>
          {field('opens', 'Opens at', opensAt, setOpensAt, { type: 'datetime-local' })}
          {field('prequeue', 'Pre-queue (minutes before)', prequeue, setPrequeue, { ...number, min: 0 })}
          {field('rate', 'Admit per minute', rate, setRate, { ...number, min: 1 })}
          {field('cap', 'Active shoppers at most', cap, setCap, { ...number, min: 1, placeholder: 'No cap' })}
          {field('pass', 'Pass (seconds to start buying)', pass, setPass, { ...number, min: 1 })}
          <button type="submit" className="button" disabled={saving}>
            {saving ? 'Turning on…' : 'Turn on the waiting room'}
          </button>
          <OutcomeLine outcome={outcome} hint="Visitors may join from the pre-queue on; at opening they get positions in a random draw." />
        </form>
      </details>
    </>
  );
}
