import { formatPrice } from './format.ts';

interface Priced {
  price: string;
  currency: string;
}

/**
 * An event card's price line: "from €20.00" for the cheapest type, in its own
 * price string (numbers only to compare). A free type says so, rather than
 * "from €0.00". Null while no type is known.
 */
export function priceFrom(tickets: readonly Priced[]): string | null {
  const cheapest = tickets.reduce<Priced | undefined>((min, t) => (min === undefined || Number(t.price) < Number(min.price) ? t : min), undefined);
  if (!cheapest) return null;
  if (Number(cheapest.price) > 0) return `from ${formatPrice(cheapest.price, cheapest.currency)}`;
  return tickets.every((t) => Number(t.price) === 0) ? 'Free' : 'Free and paid tickets';
}
