import type { TicketAvailability } from '@ticketpulse/client';
import { useId, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { wholeNumber } from '../number-fields.ts';

/** totalCapacity's upper bound in the API. */
const MAX_CAPACITY = 10_000_000;

type Outcome = { kind: 'saved' } | { kind: 'error'; message: string } | null;

/** Changes a ticket type's capacity (PATCH /api/event-tickets/:id); empty means unlimited. */
export function CapacityEditor({ ticket }: { ticket: TicketAvailability }) {
  const id = useId();
  const [draft, setDraft] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const current = ticket.isUnlimited ? '' : String(ticket.totalCapacity ?? '');
  const committed = (ticket.soldCount ?? 0) + (ticket.reservedCount ?? 0);
  const value = draft ?? current;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    // The API's bounds (docs/api.md): its own refusal names a body field, not what to type.
    const totalCapacity = value.trim() === '' ? null : wholeNumber(value, 0, MAX_CAPACITY);
    if (totalCapacity === undefined) {
      setOutcome({ kind: 'error', message: 'Enter a whole number up to 10,000,000, or leave it empty for unlimited.' });
      return;
    }
    setSaving(true);
    setOutcome(null);
    try {
      await api(`/api/event-tickets/${encodeURIComponent(ticket.ticketTypeId)}`, { method: 'PATCH', auth: 'organizer', body: { totalCapacity } });
      setDraft(null);
      setOutcome({ kind: 'saved' });
    } catch (failure) {
      setOutcome({ kind: 'error', message: failure instanceof ApiError ? failure.message : 'Saving failed. Please retry.' });
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="capacity-editor" onSubmit={save}>
      <label htmlFor={id} className="tp-visually-hidden">
        Capacity for {ticket.ticketTypeName}
      </label>
      <input
        id={id}
        className="input capacity-editor__input"
        type="number"
        inputMode="numeric"
        step={1}
        placeholder="Unlimited"
        value={value}
        aria-describedby={`${id}-hint`}
        onChange={(e) => {
          setDraft(e.target.value);
          setOutcome(null);
        }}
      />
      <button type="submit" className="button button--small" disabled={saving || draft === null}>
        {saving ? 'Saving…' : 'Save capacity'}
      </button>
      <span id={`${id}-hint`} className="capacity-editor__hint" aria-live="polite">
        {outcome?.kind === 'saved' && <span className="text-success">Saved</span>}
        {outcome?.kind === 'error' && <span className="text-danger">{outcome.message}</span>}
        {!outcome && <span className="muted">At least {committed} (sold + held)</span>}
      </span>
    </form>
  );
}
