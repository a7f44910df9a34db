/** Display formats shared by the pages. */

const isDecimal = (value: string): value is `${number}` => /^-?\d+(\.\d+)?$/.test(value);

/**
 * An amount as the API sends it (a decimal string such as "139.93"), with the
 * currency's symbol in the buyer's locale, digit for digit. Intl formats the
 * string itself as a decimal (ECMA-402 2023), never through a float, and keeps
 * every decimal it has, even beyond the currency's usual count: a yen price
 * stored as "1000.50" is not rounded to ¥1,001. Only trailing zeros past that
 * count go ("1000.00" yen is ¥1,000).
 */
export function formatPrice(price: string, currency: string): string {
  if (!isDecimal(price)) return `${price} ${currency}`;
  const decimals = price.split('.')[1]?.length ?? 0;
  try {
    const usual = new Intl.NumberFormat(undefined, { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    return new Intl.NumberFormat(undefined, {
      style: 'currency',
      currency,
      minimumFractionDigits: Math.min(usual, decimals),
      maximumFractionDigits: decimals,
    }).format(price);
  } catch {
    return `${price} ${currency}`;
  }
}

/** Remaining time as m:ss (e.g. 14:59, 0:07); never negative. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${minutes}:${String(seconds).padStart(2, '0')}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });

export function formatDate(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : dateFormat.format(time);
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A waiting time in words: rounded up, never more precise than the estimate is. */
export function formatWait(seconds: number): string {
  if (seconds < 60) return 'under a minute';
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 90) return `about ${plural(minutes, 'minute')}`;
  return `about ${plural(Math.round(minutes / 60), 'hour')}`;
}
