-- Orders per event, for the waiting room's "enough tickets for the people
-- ahead?" line (docs/waiting-room.md): the average seats per order is
-- ordered_seats / orders_count, read in O(1). Both rise when a hold is
-- confirmed (confirm_reservation); verify_ticket_counts() checks them.
ALTER TABLE events
  ADD COLUMN orders_count  integer NOT NULL DEFAULT 0 CHECK (orders_count >= 0),
  ADD COLUMN ordered_seats integer NOT NULL DEFAULT 0 CHECK (ordered_seats >= 0);

UPDATE events e SET orders_count = o.orders, ordered_seats = o.seats
  FROM (SELECT r.event_id, count(DISTINCT r.id)::integer AS orders, count(t.id)::integer AS seats
          FROM reservations r JOIN tickets t ON t.reservation_id = r.id AND t.status = 'sold'
         WHERE r.status = 'confirmed' GROUP BY r.event_id) o
 WHERE o.event_id = e.id;
