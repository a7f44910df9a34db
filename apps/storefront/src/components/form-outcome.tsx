/** What a dashboard form last did: saved (what), refused (why), or nothing yet. */
export type Outcome = { kind: 'saved'; what: string } | { kind: 'error'; message: string } | null;

/** The saved or refused line under a form, read out politely; `hint` until the form is used. */
export function OutcomeLine({ outcome, hint }: { outcome: Outcome; hint: string }) {
  return (
    <p className="queue-panel__outcome" aria-live="polite">
      {outcome?.kind === 'saved' && <span className="text-success">{outcome.what}</span>}
      {outcome?.kind === 'error' && (
        <span className="text-danger" role="alert">
          {outcome.message}
        </span>
      )}
      {!outcome && <span className="muted">{hint}</span>}
    </p>
  );
}
