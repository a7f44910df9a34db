/**
 * Mass-expiry baseline: the original design's expire_ticket_reservations(),
 * one statement releasing every due hold in one transaction, as TicketPulse
 * did before 0007, 0010 and 0011 (chunks, bounded inline expiry, plans that
 * hold up on fresh tables). The SQL puts back 0003's statement, taken from
 * that migration, under the current signature, and ignores every limit: the
 * sweeper's first call releases everything due (its second finds nothing),
 * and so does a hold that finds its ticket type sold out.
 */
import { readFile } from 'node:fs/promises';

const HOLDS_MIGRATION = new URL('../../packages/server/src/db/migrations/0003_holds.sql', import.meta.url);
const ORIGINAL = /CREATE FUNCTION expire_due_holds\(p_event_ticket_id uuid DEFAULT NULL\)[\s\S]*?END \$\$;/;

export async function oneTransactionExpirySql(): Promise<string> {
  const original = ORIGINAL.exec(await readFile(HOLDS_MIGRATION, 'utf8'))?.[0];
  if (!original) throw new Error('expire_due_holds() not found in 0003_holds.sql');
  const replaced = original.replace(
    'CREATE FUNCTION expire_due_holds(p_event_ticket_id uuid DEFAULT NULL)',
    'CREATE OR REPLACE FUNCTION expire_due_holds(p_event_ticket_id uuid DEFAULT NULL, p_limit integer DEFAULT NULL)',
  );
  // CREATE OR REPLACE keeps the function's settings; the original had none.
  return `${replaced}\nALTER FUNCTION expire_due_holds(uuid, integer) RESET ALL;\n`;
}
