import type { Row, TableName } from '../../supabase/tables.ts';

export const CHANGE_TYPES = ['INSERT', 'UPDATE', 'DELETE'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

/** One committed change to one row, as a postgres_changes message describes it. */
export interface RowChange {
  table: TableName;
  type: ChangeType;
  /** The new row (INSERT, UPDATE); null for DELETE. */
  record: Row | null;
  /** The previous row (UPDATE, DELETE) as far as it is known; null for INSERT. */
  oldRecord: Row | null;
  /** ISO 8601, by the database clock. */
  commitTimestamp: string;
}

/** The row that decides who may see a change and which filters it matches: the new one, or the old one of a DELETE. */
export const subjectOf = (change: RowChange): Row => (change.record ?? change.oldRecord)!;
