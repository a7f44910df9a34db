-- What the foreign keys from tickets (to event_tickets and reservations) and
-- from reservations (to events) did (migrations/0013), once per statement: a
-- hold batch writes hundreds of seats and holds for a handful of ticket
-- types, holds and one event, and a foreign key looked each one up, and
-- locked it, once per row. Their triggers are in 90_triggers.sql; the
-- constraint names, SQLSTATE 23503 and messages are a foreign key's, so
-- callers cannot tell the difference.

CREATE OR REPLACE FUNCTION raise_reference_missing(p_table text, p_constraint text, p_key text, p_referenced text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', p_table, p_constraint
    USING ERRCODE = 'foreign_key_violation', TABLE = p_table, CONSTRAINT = p_constraint,
          DETAIL = format('Key %s is not present in table "%s".', p_key, p_referenced);
END $$;

CREATE OR REPLACE FUNCTION raise_reference_kept(p_table text, p_constraint text, p_key text, p_referencing text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on table "%"', p_table, p_constraint, p_referencing
    USING ERRCODE = 'foreign_key_violation', TABLE = p_table, CONSTRAINT = p_constraint,
          DETAIL = format('Key %s is still referenced from table "%s".', p_key, p_referencing);
END $$;

-- Seats written (inserted, or re-pointed at another type or hold) must name a
-- ticket type of their own event, and a hold that exists. Each one named is
-- locked FOR KEY SHARE until the transaction ends, as a foreign key check
-- does: a transaction deleting it waits for this one, then finds its seats
-- (references_gone() below).
CREATE OR REPLACE FUNCTION lock_ticket_references(p_type_ids uuid[], p_event_ids uuid[], p_reservation_ids uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_wanted integer;
  v_found integer;
  v_mine integer;
  v_locked integer;
  v_own xid := pg_current_xact_id()::xid;
  v_key text;
BEGIN
  SELECT count(*) INTO v_wanted FROM (SELECT DISTINCT t, e FROM unnest(p_type_ids, p_event_ids) AS k(t, e)) AS k;
  -- In id order, as every other lock on ticket types is taken (docs/inventory.md, Lock order).
  PERFORM 1 FROM event_tickets et
   WHERE (et.id, et.event_id) IN (SELECT t, e FROM unnest(p_type_ids, p_event_ids) AS k(t, e))
   ORDER BY et.id FOR KEY SHARE;
  GET DIAGNOSTICS v_found = ROW_COUNT;
  IF v_found < v_wanted THEN
    SELECT format('(event_ticket_id, event_id)=(%s, %s)', k.t, k.e) INTO v_key
      FROM unnest(p_type_ids, p_event_ids) AS k(t, e)
     WHERE NOT EXISTS (SELECT 1 FROM event_tickets et WHERE et.id = k.t AND et.event_id = k.e) LIMIT 1;
    PERFORM raise_reference_missing('tickets', 'tickets_ticket_type_of_event', v_key, 'event_tickets');
  END IF;

  -- A hold this transaction wrote is seen by no one else until it commits,
  -- with its seats: it is looked up, not locked (most seats' holds are new).
  SELECT (SELECT count(DISTINCT r) FROM unnest(p_reservation_ids) AS r), count(*), count(*) FILTER (WHERE r.xmin = v_own)
    INTO v_wanted, v_found, v_mine
    FROM reservations r WHERE r.id = ANY (p_reservation_ids);
  IF v_found > v_mine THEN
    PERFORM 1 FROM reservations r WHERE r.id = ANY (p_reservation_ids) AND r.xmin <> v_own ORDER BY r.id FOR KEY SHARE;
    GET DIAGNOSTICS v_locked = ROW_COUNT;
    -- One went between the look and the lock: fewer found.
    v_found := v_mine + v_locked;
  END IF;
  IF v_found < v_wanted THEN
    SELECT format('(reservation_id)=(%s)', r) INTO v_key FROM unnest(p_reservation_ids) AS r
     WHERE r IS NOT NULL AND NOT EXISTS (SELECT 1 FROM reservations WHERE id = r) LIMIT 1;
    PERFORM raise_reference_missing('tickets', 'tickets_reservation_id_fkey', v_key, 'reservations');
  END IF;
END $$;
REVOKE EXECUTE ON FUNCTION lock_ticket_references(uuid[], uuid[], uuid[]) FROM PUBLIC;

-- Holds written (inserted, or moved to another event) must name an event
-- that exists, locked FOR KEY SHARE as above: a batch's holds are all of one
-- event, so one lookup and one lock a batch, not one per hold.
CREATE OR REPLACE FUNCTION lock_hold_references(p_event_ids uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_wanted integer;
  v_found integer;
  v_key text;
BEGIN
  SELECT count(DISTINCT e) INTO v_wanted FROM unnest(p_event_ids) AS e;
  PERFORM 1 FROM events WHERE id = ANY (p_event_ids) ORDER BY id FOR KEY SHARE;
  GET DIAGNOSTICS v_found = ROW_COUNT;
  IF v_found < v_wanted THEN
    SELECT format('(event_id)=(%s)', e) INTO v_key FROM unnest(p_event_ids) AS e
     WHERE NOT EXISTS (SELECT 1 FROM events WHERE id = e) LIMIT 1;
    PERFORM raise_reference_missing('reservations', 'reservations_event_id_fkey', v_key, 'events');
  END IF;
END $$;
REVOKE EXECUTE ON FUNCTION lock_hold_references(uuid[]) FROM PUBLIC;

-- tickets and reservations, AFTER INSERT (each statement, new_rows) and
-- AFTER UPDATE OF their references (each row, only when one of them changed).
CREATE OR REPLACE FUNCTION check_references() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_TABLE_NAME = 'reservations' THEN
    IF TG_LEVEL = 'ROW' THEN
      PERFORM lock_hold_references(ARRAY[NEW.event_id]);
    ELSE
      PERFORM lock_hold_references(array_agg(event_id)) FROM new_rows;
    END IF;
  ELSIF TG_LEVEL = 'ROW' THEN
    PERFORM lock_ticket_references(ARRAY[NEW.event_ticket_id], ARRAY[NEW.event_id], ARRAY[NEW.reservation_id]);
  ELSE
    PERFORM lock_ticket_references(array_agg(event_ticket_id), array_agg(event_id), array_agg(reservation_id)) FROM new_rows;
  END IF;
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION check_references() FROM PUBLIC;

-- events, event_tickets and reservations, AFTER DELETE (each statement,
-- old_rows), AFTER UPDATE OF their key (each row, only when it changed) and
-- AFTER TRUNCATE: an event, ticket type or hold that rows still reference
-- may not go, as with a foreign key's NO ACTION. One rule for the three
-- operations: among the rows that referenced a key that went (any key after
-- a TRUNCATE), none may be left whose parent is gone, so a key another row
-- took meanwhile still counts as there. A delete waits for the row locks
-- taken above, so it sees the rows of a transaction that wrote them
-- meanwhile. (A TRUNCATE ... CASCADE no longer reaches the referencing
-- table: name it in the same TRUNCATE.)
CREATE OR REPLACE FUNCTION references_gone() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_all boolean := TG_OP = 'TRUNCATE';
  -- The ids that went (event_tickets' key also has event_id: its rows are matched on both below).
  v_ids uuid[];
  v_key text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    SELECT array_agg(id) INTO v_ids FROM old_rows;
  ELSIF TG_OP = 'UPDATE' THEN
    v_ids := ARRAY[OLD.id];
  END IF;
  IF TG_TABLE_NAME = 'events' THEN
    SELECT format('(id)=(%s)', r.event_id) INTO v_key FROM reservations r
     WHERE (v_all OR r.event_id = ANY (v_ids)) AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = r.event_id) LIMIT 1;
    IF v_key IS NOT NULL THEN
      PERFORM raise_reference_kept('events', 'reservations_event_id_fkey', v_key, 'reservations');
    END IF;
  ELSIF TG_TABLE_NAME = 'event_tickets' THEN
    SELECT format('(id, event_id)=(%s, %s)', t.event_ticket_id, t.event_id) INTO v_key FROM tickets t
     WHERE (v_all OR t.event_ticket_id = ANY (v_ids))
       AND NOT EXISTS (SELECT 1 FROM event_tickets et WHERE et.id = t.event_ticket_id AND et.event_id = t.event_id) LIMIT 1;
    IF v_key IS NOT NULL THEN
      PERFORM raise_reference_kept('event_tickets', 'tickets_ticket_type_of_event', v_key, 'tickets');
    END IF;
  ELSE
    SELECT format('(id)=(%s)', t.reservation_id) INTO v_key FROM tickets t
     WHERE (v_all OR t.reservation_id = ANY (v_ids)) AND t.reservation_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.id = t.reservation_id) LIMIT 1;
    IF v_key IS NOT NULL THEN
      PERFORM raise_reference_kept('reservations', 'tickets_reservation_id_fkey', v_key, 'tickets');
    END IF;
  END IF;
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION references_gone() FROM PUBLIC;
