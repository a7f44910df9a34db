/** A goal with its "limited by" kept only when it was missed, so a met goal does not read as a miss. */
import type { Goal } from './scenario.ts';

export function goal(text: string, measured: string, met: boolean, limitedBy?: string): Goal {
  return { goal: text, measured, met, ...(!met && limitedBy && { limitedBy }) };
}
