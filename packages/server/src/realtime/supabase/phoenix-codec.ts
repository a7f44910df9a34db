import { z } from 'zod';

/**
 * Phoenix channel frames as @supabase/realtime-js sends them. vsn 1.0.0:
 * JSON objects `{topic, event, payload, ref, join_ref}`; vsn 2.0.0: JSON
 * arrays `[join_ref, ref, topic, event, payload]` (and binary frames, used
 * only for broadcast, which TicketPulse does not offer).
 */

export const VSNS = ['1.0.0', '2.0.0'] as const;
export type Vsn = (typeof VSNS)[number];

export interface PhoenixMessage {
  topic: string;
  event: string;
  payload: Record<string, unknown>;
  ref: string | null;
  joinRef: string | null;
}

/** Everything of a frame but its payload, which fan-out serializes once for many frames. */
export type FrameHeader = Omit<PhoenixMessage, 'payload'>;

/** `?vsn=`: absent means 1.0.0, as Phoenix assumes. */
export function parseVsn(value: string | null): Vsn | undefined {
  if (value === null) return '1.0.0';
  return (VSNS as readonly string[]).includes(value) ? (value as Vsn) : undefined;
}

const ref = z.string().max(255).nullable();
const name = z.string().min(1).max(255);
const payload = z.record(z.string(), z.unknown());
const objectFrame = z.object({ topic: name, event: name, payload, ref: ref.optional(), join_ref: ref.optional() });
const arrayFrame = z.tuple([ref, ref, name, name, payload]);

export type Decoded = { ok: true; message: PhoenixMessage } | { ok: false; reason: string };

export function decodeText(vsn: Vsn, text: string): Decoded {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'frame is not JSON' };
  }
  if (vsn === '1.0.0') {
    const parsed = objectFrame.safeParse(json);
    if (!parsed.success) return { ok: false, reason: `vsn 1.0.0 frames are {topic, event, payload, ref, join_ref}: ${issue(parsed.error)}` };
    const { topic, event, payload, ref = null, join_ref = null } = parsed.data;
    return { ok: true, message: { topic, event, payload, ref, joinRef: join_ref } };
  }
  const parsed = arrayFrame.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `vsn 2.0.0 frames are [join_ref, ref, topic, event, payload]: ${issue(parsed.error)}` };
  const [joinRef, messageRef, topic, event, body] = parsed.data;
  return { ok: true, message: { topic, event, payload: body, ref: messageRef, joinRef } };
}

const issue = (error: z.ZodError) => {
  const first = error.issues[0];
  return first ? `${first.path.join('.') || 'frame'}: ${first.message}` : 'invalid';
};

/** A frame whose payload is already JSON text. */
export function encodeRaw(vsn: Vsn, header: FrameHeader, payloadJson: string): string {
  const topic = JSON.stringify(header.topic);
  const event = JSON.stringify(header.event);
  const messageRef = JSON.stringify(header.ref);
  const joinRef = JSON.stringify(header.joinRef);
  if (vsn === '2.0.0') return `[${joinRef},${messageRef},${topic},${event},${payloadJson}]`;
  return `{"topic":${topic},"event":${event},"payload":${payloadJson},"ref":${messageRef},"join_ref":${joinRef}}`;
}

/** Kind 3, a client's broadcast push: a header byte per length of join_ref, ref, topic, event and metadata, an encoding byte, then the strings. */
const USER_BROADCAST_PUSH = 3;

/**
 * The join_ref, ref and topic of a binary frame, so that the refusal can
 * answer the push it refuses; undefined when the frame is not a well-formed
 * broadcast push.
 */
export function decodeBinaryHeader(frame: Buffer): FrameHeader | undefined {
  if (frame.length < 7 || frame[0] !== USER_BROADCAST_PUSH) return undefined;
  const [joinRefLength, refLength, topicLength, eventLength, metadataLength] = [frame[1]!, frame[2]!, frame[3]!, frame[4]!, frame[5]!];
  if (7 + joinRefLength + refLength + topicLength + eventLength + metadataLength > frame.length) return undefined;
  const text = (start: number, length: number) => frame.subarray(start, start + length).toString('utf8');
  const joinRef = text(7, joinRefLength);
  const messageRef = text(7 + joinRefLength, refLength);
  const topic = text(7 + joinRefLength + refLength, topicLength);
  return { joinRef: joinRef || null, ref: messageRef || null, topic, event: 'broadcast' };
}
