import type { Queryable } from '../../db/database.ts';

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

/**
 * The columns of the streamed tables, read from the catalog once at start so
 * a later migration that adds a column needs no change here.
 */
export async function loadTableColumns(db: Queryable): Promise<TableColumns> {
  const { rows } = await db.query<{ table_name: TableName; column_name: string; udt_name: string }>(
    `SELECT table_name::text, column_name::text, udt_name::text FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ANY ($1::text[])
      ORDER BY table_name, ordinal_position`,
    [TABLES],
  );
  const columns: Record<TableName, Column[]> = { event_tickets: [], tickets: [] };
  for (const r of rows) columns[r.table_name].push({ name: r.column_name, type: r.udt_name });
  return columns;
}
