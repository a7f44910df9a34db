-- A seat's references (its ticket type and event, its hold) and a hold's
-- (its event) are checked once per statement, not once per row
-- (docs/inventory.md, "References checked per statement"). These foreign
-- keys ran a lookup and a row lock per seat and per hold: more than a
-- quarter of a hold batch's database CPU, under the locks every buyer of the
-- event waits for. The same rules, with the same constraint names, error
-- code and row locks, are kept by the triggers of repeatable/15_references.sql,
-- created in 90_triggers.sql in this same migration transaction.
ALTER TABLE tickets DROP CONSTRAINT tickets_reservation_id_fkey;
ALTER TABLE tickets DROP CONSTRAINT tickets_ticket_type_of_event;
ALTER TABLE reservations DROP CONSTRAINT reservations_event_id_fkey;
