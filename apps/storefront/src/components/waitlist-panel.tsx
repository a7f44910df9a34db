import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { useQueryStatus } from '../hooks/use-query-status.ts';
import { wholeNumber } from '../number-fields.ts';
import { queries } from '../queries.ts';
import type { Waitlist } from '../types.ts';
import { OutcomeLine, type Outcome } from './form-outcome.tsx';
import { RequestStatus } from './request-status.tsx';


/** offerSeconds' bounds (docs/api.md, PATCH /api/events/:idOrSlug/waitlist). */
const MAX_OFFER_SECONDS = 86_400;

/** The figures per ticket type, in the route's names (GET /api/events/:idOrSlug/waitlist). */
const FIGURES = [
  ['waiting', 'Waiting'],
  ['offersMade', 'Offers made'],
  ['offersOpen', 'Open'],
  ['offersTaken', 'Taken'],
  ['offersExpired', 'Expired'],
  ['offersDeclined', 'Declined'],
] as const;

/**
 * The organizer's waiting-list panel (docs/waiting-list.md "Organizers"):
 * the event's switch and offer time, each type's switch, and per type the
 * list's length and what became of its offers, polled every few seconds.
 * Switching a list off closes it: the people waiting are told it closed.
 */
export function WaitlistPanel({ slug }: { slug: string }) {
  const query = useQuery(queries.waitlist(slug));
  const status = useQueryStatus(query);
  const queryClient = useQueryClient();
  const [saving, setSaving] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const waitlist = query.data;

  /** A PATCH whose answer is the whole list, shown at once. */
  const change = async (what: string, path: string, body: Record<string, unknown>) => {
    setSaving(true);
    setOutcome(null);
    try {
      const answer = await api<{ waitlist: Waitlist }>(path, { method: 'PATCH', auth: 'organizer', body });
      queryClient.setQueryData(queries.waitlist(slug).queryKey, answer.waitlist);
      setOutcome({ kind: 'saved', what });
    } catch (failure) {
      setOutcome({ kind: 'error', message: failure instanceof ApiError ? failure.message : 'Saving failed. Please retry.' });
    } finally {
      setSaving(false);
    }
  };

  if (!waitlist) return <RequestStatus {...status} what="the waiting lists" />;
  const eventPath = `/api/events/${encodeURIComponent(slug)}/waitlist`;
  return (
    <div className="waitlist-panel">
      <RequestStatus {...status} what="the waiting lists" />
      <WaitlistSettings waitlist={waitlist} saving={saving} onChange={(what, body) => void change(what, eventPath, body)} onRefused={(message) => setOutcome({ kind: 'error', message })} />
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Waiting lists per ticket type, scrollable">
        <table className="table" data-testid="waitlist-figures">
          <caption className="tp-visually-hidden">Waiting lists per ticket type</caption>
          <thead>
            <tr>
              <th scope="col">Ticket type</th>
              <th scope="col">List</th>
              {FIGURES.map(([key, label]) => (
                <th key={key} scope="col" className="num">
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {waitlist.ticketTypes.map((type) => (
              <tr key={type.ticketTypeId} data-ticket-type={type.ticketTypeName}>
                <th scope="row">{type.ticketTypeName}</th>
                <td>
                  <label>
                    <input
                      type="checkbox"
                      checked={type.enabled}
                      disabled={saving || !waitlist.enabled}
                      onChange={(e) =>
                        void change(`${type.ticketTypeName}: list ${e.target.checked ? 'on' : 'off'}`, `/api/event-tickets/${encodeURIComponent(type.ticketTypeId)}/waitlist`, {
                          enabled: e.target.checked,
                        })
                      }
                    />{' '}
                    On<span className="tp-visually-hidden"> for {type.ticketTypeName}</span>
                  </label>
                </td>
                {FIGURES.map(([key]) => (
                  <td key={key} className="num" data-col={key}>
                    {type[key]}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <OutcomeLine outcome={outcome} hint="Seats that come back go to the lists first, in order. Switching a list off closes it." />
    </div>
  );
}

function WaitlistSettings(props: {
  waitlist: Waitlist;
  saving: boolean;
  onChange: (what: string, body: Record<string, unknown>) => void;
  onRefused: (message: string) => void;
}) {
  const { waitlist, saving, onChange, onRefused } = props;
  const id = useId();
  // Null shows the setting as it is now (changed elsewhere too), until edited.
  const [draft, setDraft] = useState<string | null>(null);
  const seconds = draft ?? String(waitlist.offerSeconds);
  const save = (e: FormEvent) => {
    e.preventDefault();
    const value = wholeNumber(seconds, 1, MAX_OFFER_SECONDS);
    if (value === undefined) {
      onRefused(`Offer time: enter whole seconds, 1 to ${MAX_OFFER_SECONDS}.`);
      return;
    }
    setDraft(null);
    onChange(`Offers are now held for ${value} s`, { offerSeconds: value });
  };
  return (
    <form className="waitlist-panel__settings" onSubmit={save} noValidate>
      <label>
        <input type="checkbox" checked={waitlist.enabled} disabled={saving} onChange={(e) => onChange(`Waiting lists ${e.target.checked ? 'on' : 'off'}`, { enabled: e.target.checked })} /> Waiting
        lists on for this event
      </label>
      <label htmlFor={id}>Offers held for (seconds)</label>
      <input id={id} className="input" type="number" inputMode="numeric" min={1} max={MAX_OFFER_SECONDS} step={1} value={seconds} onChange={(e) => setDraft(e.target.value)} />
      <button type="submit" className="button button--small" disabled={saving || draft === null}>
        Save offer time
      </button>
    </form>
  );
}
