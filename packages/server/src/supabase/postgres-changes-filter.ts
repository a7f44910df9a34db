import { compareText } from '@ticketpulse/protocol';
import type { Column, Row } from './tables.ts';
import { UUID } from '../inventory/event-ref.ts';

/**
 * Filters of postgres_changes bindings (`event_id=eq.<uuid>`), compiled once
 * at join into an in-memory predicate, so routing a change never asks the
 * database. The grammar is PostgREST's: `column=operator.value`, conditions
 * joined by commas are ANDed, `in.(a,b)` lists values, and a value with a
 * reserved character (`,` `(` `)`) is written in double quotes.
 */

export const OPERATORS = ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in'] as const;
export type Operator = (typeof OPERATORS)[number];

export interface Condition {
  column: string;
  operator: Operator;
  /** The values as written (one, or the list of `in`), unquoted. */
  values: string[];
}

export type RowPredicate = (row: Row) => boolean;

export type CompiledFilter =
  | { ok: true; predicate: RowPredicate; conditions: Condition[] }
  | { ok: false; reason: string };

/** Supabase Realtime's own cap on `in` lists. */
const MAX_IN_VALUES = 100;

/** How values of a column type compare; `parse` returns undefined for a value the type does not accept. */
interface ValueKind {
  parse(value: unknown): string | number | boolean | undefined;
}

const text: ValueKind = { parse: (v) => (typeof v === 'string' ? v : undefined) };
const uuid: ValueKind = { parse: (v) => (typeof v === 'string' && UUID.test(v) ? v.toLowerCase() : undefined) };
const number: ValueKind = {
  parse(v) {
    if (typeof v === 'number') return v;
    if (typeof v !== 'string' || v.trim() === '') return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  },
};
const bool: ValueKind = {
  parse(v) {
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 't') return true;
    if (v === 'false' || v === 'f') return false;
    return undefined;
  },
};
const time: ValueKind = {
  parse(v) {
    if (typeof v !== 'string') return undefined;
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : ms;
  },
};

const KINDS: Readonly<Record<string, ValueKind>> = {
  text,
  varchar: text,
  uuid,
  int2: number,
  int4: number,
  int8: number,
  numeric: number,
  float4: number,
  float8: number,
  bool,
  timestamptz: time,
  timestamp: time,
  date: time,
};

type Value = string | number | boolean;
type Comparison = (a: Value, b: Value) => boolean;

/** Values of one kind: numbers, times (ms), booleans (false before true), text by code point. */
const order = (a: Value, b: Value): number => (typeof a === 'string' && typeof b === 'string' ? compareText(a, b) : a < b ? -1 : a > b ? 1 : 0);

const COMPARISONS: Readonly<Record<Exclude<Operator, 'in'>, Comparison>> = {
  eq: (a, b) => a === b,
  neq: (a, b) => a !== b,
  lt: (a, b) => order(a, b) < 0,
  lte: (a, b) => order(a, b) <= 0,
  gt: (a, b) => order(a, b) > 0,
  gte: (a, b) => order(a, b) >= 0,
};

/** Compiles `filter` against a table's columns; no filter matches every row. */
export function compileFilter(filter: string | null | undefined, columns: readonly Column[]): CompiledFilter {
  if (filter === undefined || filter === null || filter === '') return { ok: true, predicate: () => true, conditions: [] };
  const predicates: RowPredicate[] = [];
  const conditions: Condition[] = [];
  for (const part of splitOutside(filter, ',')) {
    const compiled = compileCondition(part, columns);
    if (!compiled.ok) return { ok: false, reason: `Invalid filter "${filter}": ${compiled.reason}` };
    predicates.push(compiled.predicate);
    conditions.push(compiled.condition);
  }
  const predicate: RowPredicate = predicates.length === 1 ? predicates[0]! : (row) => predicates.every((p) => p(row));
  return { ok: true, predicate, conditions };
}

/**
 * One query parameter of the PostgREST subset (`?name=eq.A, B`), as PostgREST
 * reads it: one condition, whose value after `op.` is taken as written, commas
 * and quotes included; only `in.(…)` lists are split and unquoted. That is
 * what supabase-js sends for `.eq('name', 'A, B')`.
 */
export function compileParameter(name: string, value: string, columns: readonly Column[]): CompiledFilter {
  // The name alone: an encoded `=` in it (`name%3Deq.A`) must not move the value's start.
  if (!columns.some((c) => c.name === name)) return { ok: false, reason: `Invalid filter "${name}=${value}": no column "${name}"` };
  const compiled = compileCondition(`${name}=${value}`, columns, { literal: true });
  if (!compiled.ok) return { ok: false, reason: `Invalid filter "${name}=${value}": ${compiled.reason}` };
  return { ok: true, predicate: compiled.predicate, conditions: [compiled.condition] };
}

type CompiledCondition = { ok: true; predicate: RowPredicate; condition: Condition } | { ok: false; reason: string };

function compileCondition(source: string, columns: readonly Column[], { literal } = { literal: false }): CompiledCondition {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=([a-z]+)\.(.*)$/s.exec(source);
  if (!match) return { ok: false, reason: `"${source}" is not column=operator.value` };
  const [, name, op, raw] = match as unknown as [string, string, string, string];
  const column = columns.find((c) => c.name === name);
  if (!column) return { ok: false, reason: `no column "${name}"` };
  if (!(OPERATORS as readonly string[]).includes(op)) {
    return { ok: false, reason: `operator "${op}" is not supported; use ${OPERATORS.join(', ')}` };
  }
  const operator = op as Operator;
  const kind = KINDS[column.type];
  if (!kind) return { ok: false, reason: `column "${name}" has type ${column.type}, which filters do not support` };

  let values: string[];
  if (operator === 'in') {
    const list = /^\((.*)\)$/s.exec(raw);
    if (!list) return { ok: false, reason: `in takes a list: ${name}=in.(a,b)` };
    values = list[1] === '' ? [] : splitOutside(list[1]!, ',').map(unquote);
    if (values.length === 0 || values.length > MAX_IN_VALUES) return { ok: false, reason: `in takes 1 to ${MAX_IN_VALUES} values` };
  } else {
    values = [literal ? raw : unquote(raw)];
  }
  const parsed = values.map((v) => kind.parse(v));
  const bad = values.find((_, i) => parsed[i] === undefined);
  if (bad !== undefined) return { ok: false, reason: `"${bad}" is not a valid ${column.type} for column "${name}"` };
  const condition: Condition = { column: name, operator, values };

  // SQL semantics: a NULL (or absent) column matches no condition, not even neq.
  if (operator === 'in') {
    const set = new Set(parsed);
    return { ok: true, condition, predicate: (row) => set.has(kind.parse(row[name])) };
  }
  const compare = COMPARISONS[operator];
  const expected = parsed[0]!;
  return {
    ok: true,
    condition,
    predicate: (row) => {
      const actual = kind.parse(row[name]);
      return actual !== undefined && compare(actual, expected);
    },
  };
}

/** Splits on `separator` where it is not inside double quotes or parentheses. */
function splitOutside(source: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && c === separator) {
      parts.push(source.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(source.slice(start));
  return parts;
}

/** `"a,b"` → `a,b` (backslash escapes the next character); bare values stay as they are. */
function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1).replace(/\\(.)/gs, '$1');
  return value;
}
