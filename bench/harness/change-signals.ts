/**
 * How the fan-out's servers hear of changes made by another process: both
 * the same way, one NOTIFY per committed change from a trigger on events.
 * TicketPulse gets the event id on its own bus channel, in the format a
 * second TicketPulse node would send (it then re-reads the event at its next
 * tick); the Socket.IO baseline installs its own trigger, which carries the
 * counts (bench/baselines/socket-io-server.ts).
 */
import type { Database } from '../../packages/server/src/db/database.ts';

const TICKETPULSE_BUS = `
CREATE FUNCTION bench_signal_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ticketpulse_availability', json_build_object('node', 'bench-trigger', 'events', json_build_array(NEW.id))::text);
  RETURN NULL;
END $$;
CREATE TRIGGER bench_signal_change AFTER UPDATE OF availability_version ON events FOR EACH ROW
  WHEN (OLD.availability_version IS DISTINCT FROM NEW.availability_version)
  EXECUTE FUNCTION bench_signal_change();`;

/** From now on every availability change in this schema signals TicketPulse gateways at once. */
export async function signalEveryChange(db: Database): Promise<void> {
  await db.exec(TICKETPULSE_BUS);
}
