/**
 * The one database interface the service talks to. Two drivers implement it:
 * real PostgreSQL through node-postgres (`postgres.ts`) and embedded PGlite
 * (`pglite.ts`). Everything above this file is driver-agnostic.
 */

export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

export interface Queryable {
  /** One parameterised statement. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type DriverName = 'postgres' | 'pglite';

export interface Database extends Queryable {
  readonly driver: DriverName;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * LISTEN on a channel; resolves to a function that stops listening.
   * `onReconnect` runs after a lost listener connection is back: whatever was
   * notified meanwhile is gone, so consumers re-read what they care about.
   */
  listen(channel: string, onNotify: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  /**
   * Closes every connection. `exiting`: the process ends right after, so a
   * server's connections are told goodbye without waiting for the server to
   * close its side (the exit closes the sockets anyway); an embedded
   * database is always closed completely, as that is when it is written out.
   */
  close(options?: { exiting?: boolean }): Promise<void>;
}

/** The fields both drivers' errors carry (both use pg-protocol's DatabaseError). */
export interface DatabaseError extends Error {
  code: string;
  detail?: string;
  constraint?: string;
}

export function isDatabaseError(error: unknown): error is DatabaseError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}

/** LISTEN takes an identifier, not a parameter, so channel names are restricted. */
export function assertChannelName(channel: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) {
    throw new Error(`Invalid channel name: ${JSON.stringify(channel)}`);
  }
}
