import { describe, expect, it } from 'vitest';
import { decodeBinaryHeader, decodeText, encodeRaw, parseVsn } from '../src/realtime/supabase/phoenix-codec.ts';

describe('Phoenix codec', () => {
  it('takes vsn 1.0.0 and 2.0.0, and 1.0.0 when none is given', () => {
    expect(parseVsn(null)).toBe('1.0.0');
    expect(parseVsn('1.0.0')).toBe('1.0.0');
    expect(parseVsn('2.0.0')).toBe('2.0.0');
    expect(parseVsn('3.0.0')).toBeUndefined();
  });

  it('decodes vsn 1.0.0 objects and vsn 2.0.0 arrays to the same message', () => {
    const expected = { topic: 'realtime:room', event: 'phx_join', payload: { config: {} }, ref: '1', joinRef: '1' };
    expect(decodeText('1.0.0', '{"topic":"realtime:room","event":"phx_join","payload":{"config":{}},"ref":"1","join_ref":"1"}')).toEqual({ ok: true, message: expected });
    expect(decodeText('2.0.0', '["1","1","realtime:room","phx_join",{"config":{}}]')).toEqual({ ok: true, message: expected });
    expect(decodeText('1.0.0', '{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"2"}')).toEqual({
      ok: true,
      message: { topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '2', joinRef: null },
    });
  });

  it('refuses frames of the other version, or not JSON, with a reason', () => {
    expect(decodeText('2.0.0', '{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"2"}')).toMatchObject({ ok: false, reason: expect.stringContaining('[join_ref, ref, topic, event, payload]') });
    expect(decodeText('1.0.0', '[null,"2","phoenix","heartbeat",{}]')).toMatchObject({ ok: false, reason: expect.stringContaining('{topic, event, payload, ref, join_ref}') });
    expect(decodeText('2.0.0', '[null,"2","phoenix","heartbeat","not an object"]')).toMatchObject({ ok: false });
    expect(decodeText('1.0.0', 'hello')).toEqual({ ok: false, reason: 'frame is not JSON' });
  });

  it('encodes a frame around a payload serialized once', () => {
    const header = { topic: 'realtime:room', event: 'postgres_changes', ref: null, joinRef: '3' };
    const payload = '{"ids":[1],"data":{}}';
    expect(JSON.parse(encodeRaw('1.0.0', header, payload))).toEqual({ topic: 'realtime:room', event: 'postgres_changes', payload: { ids: [1], data: {} }, ref: null, join_ref: '3' });
    expect(JSON.parse(encodeRaw('2.0.0', header, payload))).toEqual(['3', null, 'realtime:room', 'postgres_changes', { ids: [1], data: {} }]);
  });

  it("reads the refs and topic of a binary broadcast push (kind 3), as realtime-js's serializer writes it", () => {
    const strings = ['4', '5', 'realtime:room', 'cursor', ''];
    const header = Buffer.from([3, ...strings.map((s) => s.length), 1]);
    const frame = Buffer.concat([header, Buffer.from(strings.join('')), Buffer.from('{"x":1}')]);
    expect(decodeBinaryHeader(frame)).toEqual({ joinRef: '4', ref: '5', topic: 'realtime:room', event: 'broadcast' });
    expect(decodeBinaryHeader(frame.subarray(0, 10))).toBeUndefined();
    expect(decodeBinaryHeader(Buffer.from([4, 0, 0, 0, 0, 0, 0]))).toBeUndefined();
  });
});
