/** event_tickets columns as the pg drivers return them, which ticket_availability_view passes through under the same names. */
export interface TicketTypeColumns {
  description: string | null;
  /** numeric(12, 2), as PostgreSQL's text. */
  price: string;
  currency: string;
  total_capacity: number | null;
  sold_count: number;
  reserved_count: number;
  available_count: number | null;
}
