import type { Queryable } from '../db/database.ts';

/** The tables the Supabase-compatible endpoint streams, in schema `public` as the client names it. */
export const TABLES = ['event_tickets', 'tickets'] as const;
export type TableName = (typeof TABLES)[number];

export const isTableName = (name: string): name is TableName => (TABLES as readonly string[]).includes(name);

/** A column as change messages describe it: `type` is the PostgreSQL type name the client coerces values by (int4, numeric, timestamptz…). */
export interface Column {
  name: string;
  type: string;
}

export type TableColumns = Readonly<Record<TableName, readonly Column[]>>;

/** A row as change messages carry it: column name to JSON value. */
export type Row = Readonly<Record<string, unknown>>;

/** The columns of tables (or views) by name, in column order, read from the catalog. */
export async function loadColumns(db: Queryable, names: readonly string[]): Promise<Map<string, Column[]>> {
  const { rows } = await db.query<{ table_name: string; column_name: string; udt_name: string }>(
    `SELECT table_name::text, column_name::text, udt_name::text FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ANY ($1::text[])
      ORDER BY table_name, ordinal_position`,
    [names],
  );
  const columns = new Map<string, Column[]>(names.map((name) => [name, []]));
  for (const r of rows) columns.get(r.table_name)!.push({ name: r.column_name, type: r.udt_name });
  return columns;
}

/**
 * The columns of the streamed tables, read once at start so a later
 * migration that adds a column needs no change here.
 */
export async function loadTableColumns(db: Queryable): Promise<TableColumns> {
  const columns = await loadColumns(db, TABLES);
  return { event_tickets: columns.get('event_tickets')!, tickets: columns.get('tickets')! };
}
