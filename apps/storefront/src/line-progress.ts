/**
 * How far along the line a visitor is, in percent: of the people who were
 * ahead of them when the page first showed their place, how many have had
 * their turn. Counted from there, not from the front of the line, so someone
 * who joins behind 990 already served starts at 0%, not at 99%.
 */
export function lineProgressPercent(aheadAtStart: number, peopleAhead: number): number {
  const start = Math.max(aheadAtStart, peopleAhead);
  return start === 0 ? 100 : Math.round(((start - peopleAhead) * 100) / start);
}
