-- Another holder's reservation answers exactly as an unknown one does
-- (reservation_not_found), so a caller cannot learn which ids exist. The
-- lookup is the same single row lock either way: the same queries, the same
-- timing class.
CREATE OR REPLACE FUNCTION lock_reservation(p_reservation_id uuid, p_holder_id text) RETURNS reservations
LANGUAGE plpgsql AS $$
DECLARE
  v_reservation reservations%ROWTYPE;
BEGIN
  SELECT * INTO v_reservation FROM reservations WHERE id = p_reservation_id FOR UPDATE;
  IF NOT FOUND OR (p_holder_id IS NOT NULL AND v_reservation.holder_id <> p_holder_id) THEN
    PERFORM raise_inventory_error('Reservation not found', jsonb_build_object('code', 'reservation_not_found'));
  END IF;
  RETURN v_reservation;
END $$;
