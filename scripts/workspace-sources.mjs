/**
 * A module-resolution hook: workspace packages resolve to their TypeScript
 * sources (the "@ticketpulse/source" condition of their exports), as they do
 * for tsc, Vite and vitest. For running sources with tsx in a checkout:
 *
 *   node --import tsx --import ./scripts/workspace-sources.mjs file.ts
 *
 * (the same as `node --conditions=@ticketpulse/source --import tsx`, for
 * places that register hooks at run time, such as bin/ticketpulse.js).
 */
import { register } from 'node:module';

export const SOURCE_CONDITION = '@ticketpulse/source';

if (!import.meta.url.includes('?hooks')) register(`${import.meta.url}?hooks`);

export async function resolve(specifier, context, nextResolve) {
  if (context.conditions.includes(SOURCE_CONDITION)) return nextResolve(specifier, context);
  return nextResolve(specifier, { ...context, conditions: [SOURCE_CONDITION, ...context.conditions] });
}
