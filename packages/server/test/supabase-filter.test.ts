import { describe, expect, it } from 'vitest';
import { compileFilter, compileParameter } from '../src/supabase/postgres-changes-filter.ts';
import type { Column } from '../src/supabase/tables.ts';

const columns: Column[] = [
  { name: 'id', type: 'uuid' },
  { name: 'event_id', type: 'uuid' },
  { name: 'status', type: 'text' },
  { name: 'sold_count', type: 'int4' },
  { name: 'price', type: 'numeric' },
  { name: 'is_active', type: 'bool' },
  { name: 'updated_at', type: 'timestamptz' },
  { name: 'tags', type: 'jsonb' },
];

const A = '6a0e5f5e-8b7e-4c2a-9d55-0c1f0e7b1a01';
const B = '6a0e5f5e-8b7e-4c2a-9d55-0c1f0e7b1a02';

const row = {
  id: A,
  event_id: A,
  status: 'on_sale',
  sold_count: 7,
  price: 20.5,
  is_active: true,
  updated_at: '2026-11-21T10:00:43.005123+00:00',
  tags: null,
};

function matches(filter: string, subject: Record<string, unknown> = row): boolean {
  const compiled = compileFilter(filter, columns);
  if (!compiled.ok) throw new Error(compiled.reason);
  return compiled.predicate(subject);
}

function reason(filter: string): string {
  const compiled = compileFilter(filter, columns);
  if (compiled.ok) throw new Error(`${filter} compiled`);
  return compiled.reason;
}

describe('postgres_changes filter compiler', () => {
  it('matches everything without a filter', () => {
    for (const none of [undefined, null, '']) expect(compileFilter(none, columns)).toMatchObject({ ok: true, conditions: [] });
  });

  it('compares uuids case-insensitively, and reports what it pins', () => {
    expect(matches(`event_id=eq.${A.toUpperCase()}`)).toBe(true);
    expect(matches(`event_id=eq.${B}`)).toBe(false);
    expect(matches(`event_id=neq.${B}`)).toBe(true);
    expect(compileFilter(`event_id=in.(${A},${B})`, columns)).toMatchObject({
      ok: true,
      conditions: [{ column: 'event_id', operator: 'in', values: [A, B] }],
    });
  });

  it('orders numbers, numerics and timestamps by value, not as text', () => {
    expect(matches('sold_count=gt.10')).toBe(false);
    expect(matches('sold_count=lt.10')).toBe(true);
    expect(matches('sold_count=lte.7')).toBe(true);
    expect(matches('sold_count=gte.8')).toBe(false);
    expect(matches('price=eq.20.50')).toBe(true);
    expect(matches('price=gt.9')).toBe(true);
    expect(matches('sold_count=eq.7', { ...row, sold_count: '7' })).toBe(true);
    expect(matches('updated_at=gt.2026-11-21T10:00:43Z')).toBe(true);
    expect(matches('updated_at=lt.2026-11-21T11:00:00+01:00')).toBe(false);
  });

  it('compares text exactly, booleans by value, and in lists with quoted values', () => {
    expect(matches('status=eq.on_sale')).toBe(true);
    expect(matches('status=eq.On_Sale')).toBe(false);
    expect(matches('status=in.(paused,on_sale)')).toBe(true);
    expect(matches('status=in.("a,b",on_sale)')).toBe(true);
    expect(matches('status=eq."a,b"', { ...row, status: 'a,b' })).toBe(true);
    expect(matches('is_active=eq.true')).toBe(true);
    expect(matches('is_active=eq.f')).toBe(false);
  });

  it('orders text by code point, as PostgreSQL does under COLLATE "C" (not by UTF-16 unit)', () => {
    // U+1F600 comes after U+FF5E by code point; its first UTF-16 unit (U+D83D) comes before.
    expect(matches('status=gt.～', { ...row, status: '😀' })).toBe(true);
    expect(matches('status=lt.😀', { ...row, status: '～' })).toBe(true);
    expect(matches('status=lt.b', { ...row, status: 'B' })).toBe(true);
    expect(matches('status=gte.😀 emoji', { ...row, status: '😀' })).toBe(false);
  });

  it('takes a query parameter\'s value as written, as PostgREST does: commas and quotes are part of it', () => {
    const one = (name: string, value: string, subject: Record<string, unknown>) => {
      const compiled = compileParameter(name, value, columns);
      if (!compiled.ok) throw new Error(compiled.reason);
      return compiled.predicate(subject);
    };
    expect(one('status', 'eq.A, B', { ...row, status: 'A, B' })).toBe(true);
    expect(one('status', 'eq."x"', { ...row, status: '"x"' })).toBe(true);
    expect(one('status', 'in.("A, B",c)', { ...row, status: 'A, B' })).toBe(true);
    // An encoded = in the name does not move where the value starts.
    expect(compileParameter('status=eq.x', 'y', columns)).toMatchObject({ ok: false, reason: expect.stringContaining('no column "status=eq.x"') });
  });

  it('follows SQL: a NULL or missing column matches no condition, not even neq', () => {
    expect(matches('status=neq.paused', { ...row, status: null })).toBe(false);
    expect(matches('status=neq.paused', { id: A })).toBe(false);
    expect(matches('sold_count=in.(1,2)', { ...row, sold_count: null })).toBe(false);
  });

  it('ANDs comma-separated conditions', () => {
    expect(matches(`event_id=eq.${A},sold_count=gt.5`)).toBe(true);
    expect(matches(`event_id=eq.${A},sold_count=gt.7`)).toBe(false);
  });

  it('refuses anything else with a reason', () => {
    expect(reason('event_id=like.abc%')).toContain('operator "like" is not supported; use eq, neq, lt, lte, gt, gte, in');
    expect(reason('status=not.eq.paused')).toContain('operator "not" is not supported');
    expect(reason('nope=eq.1')).toContain('no column "nope"');
    expect(reason('event_id=eq.42')).toContain('"42" is not a valid uuid for column "event_id"');
    expect(reason('sold_count=gt.many')).toContain('"many" is not a valid int4');
    expect(reason('updated_at=gt.yesterday')).toContain('not a valid timestamptz');
    expect(reason('tags=eq.x')).toContain('type jsonb, which filters do not support');
    expect(reason('status=in.paused')).toContain('in takes a list');
    expect(reason('status=in.()')).toContain('in takes 1 to 100 values');
    expect(reason(`status=in.(${Array.from({ length: 101 }, (_, i) => i).join(',')})`)).toContain('in takes 1 to 100 values');
    expect(reason('status')).toContain('is not column=operator.value');
    expect(reason('status=eq.on_sale,')).toContain('"" is not column=operator.value');
  });
});
