/**
 * The one order ticket types are listed in, on every surface: the organizer's
 * sort order, then the name, then the id. Names and ids compare by code point,
 * as PostgreSQL does under COLLATE "C", so SQL (`ORDER BY sort_order,
 * name COLLATE "C", id`) and TypeScript agree whatever the database's locale.
 */
export function byDisplayOrder(
  a: { sortOrder: number; ticketTypeName: string; ticketTypeId: string },
  b: { sortOrder: number; ticketTypeName: string; ticketTypeId: string },
): number {
  return a.sortOrder - b.sortOrder || compareText(a.ticketTypeName, b.ticketTypeName) || compareText(a.ticketTypeId, b.ticketTypeId);
}

/**
 * Text by code point, as PostgreSQL orders it under COLLATE "C". JavaScript's
 * `<` orders UTF-16 units instead, which puts characters past U+FFFF (emoji)
 * before U+E000-U+FFFF (～, ﬁ): at the first differing unit, when both are
 * surrogates or above, surrogates are moved past the rest (ICU's fix-up).
 */
export function compareText(a: string, b: string): number {
  const shared = Math.min(a.length, b.length);
  for (let i = 0; i < shared; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x += x >= 0xe000 ? -0x800 : 0x2000;
      y += y >= 0xe000 ? -0x800 : 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}
