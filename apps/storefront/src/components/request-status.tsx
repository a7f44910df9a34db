import type { ApiError } from '../api.ts';

export interface RequestStatusProps {
  loading: boolean;
  error: ApiError | null;
  /** What is loading, e.g. "events". */
  what: string;
  onRetry?: () => void;
}

/** The loading and error line every request gets; nothing once it succeeded. */
export function RequestStatus({ loading, error, what, onRetry }: RequestStatusProps) {
  if (error) {
    return (
      <div className="message message--error" role="alert">
        <span>
          Could not load {what}: {error.message}
        </span>
        {onRetry && (
          <button type="button" className="button button--small" onClick={onRetry}>
            Retry
          </button>
        )}
      </div>
    );
  }
  if (loading) {
    return (
      <p className="message message--muted" role="status">
        <span className="spinner" aria-hidden="true" /> Loading {what}…
      </p>
    );
  }
  return null;
}
