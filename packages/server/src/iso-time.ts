/**
 * A time as the API writes every one: UTC, milliseconds, `Z`
 * (Date.toISOString()). PostgreSQL's JSON writes `+00:00` and drops zero
 * milliseconds, and clients may send any ISO offset, so every time that
 * crosses the edge, either way, goes through here.
 */
export const isoTime = (value: string | Date): string => new Date(value).toISOString();

export const isoTimeOrNull = (value: string | Date | null): string | null => (value === null ? null : isoTime(value));
