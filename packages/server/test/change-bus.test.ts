import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSignal, signalPayloads, type ChangeBatch } from '../src/realtime/buses/change-bus.ts';

describe('bus messages between nodes', () => {
  const batch = (part: Partial<ChangeBatch>): ChangeBatch => ({ eventIds: [], holderKeys: [], queueIds: [], ...part });

  it("round-trips events, holder keys and admitted queues, each split under NOTIFY's payload limit", () => {
    const sent = batch({
      eventIds: Array.from({ length: 160 }, () => randomUUID()),
      holderKeys: Array.from({ length: 400 }, (_, i) => i.toString(16).padStart(16, '0')),
      queueIds: Array.from({ length: 151 }, () => randomUUID()),
    });
    const payloads = signalPayloads('node-a', sent);
    expect(payloads).toHaveLength(2 + 2 + 2);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThan(8000);
    const got = payloads.map((payload) => parseSignal(payload, 'node-b')!);
    expect(got.flatMap((b) => b.eventIds)).toEqual(sent.eventIds);
    expect(got.flatMap((b) => b.holderKeys)).toEqual(sent.holderKeys);
    expect(got.flatMap((b) => b.queueIds)).toEqual(sent.queueIds);
  });

  it("skips the node's own messages, garbage, and messages that name nothing valid", () => {
    const id = randomUUID();
    expect(parseSignal(JSON.stringify({ node: 'a', events: [], queues: [id] }), 'a')).toBeUndefined();
    expect(parseSignal('{not json', 'b')).toBeUndefined();
    expect(parseSignal(JSON.stringify({ node: 'a', queues: [id] }), 'b')).toBeUndefined();
    expect(parseSignal(JSON.stringify({ node: 'a', events: [], queues: ['x', 7, null], holders: ['nothex'] }), 'b')).toBeUndefined();
    expect(parseSignal(JSON.stringify({ node: 'a', events: [], queues: [id, 'x'] }), 'b')).toEqual(batch({ queueIds: [id] }));
  });
});
