import { request } from 'node:http';

export interface HeldRequest {
  /** Sends the body; resolves to the answer, or to why there was none. */
  finish(): Promise<{ status: number; body: unknown } | { failed: string }>;
}

/**
 * A JSON request the server has started on: it asked `Expect: 100-continue`
 * and the server answered `100 Continue`, so its headers were read, while the
 * body waits for `finish`. For requests in flight at a given moment, whatever
 * the timing.
 */
export function startRequest(url: string, method: string, path: string, headers: Record<string, string>, body: unknown): Promise<HeldRequest> {
  const text = JSON.stringify(body);
  const target = new URL(path, url);
  const req = request({
    host: target.hostname,
    port: target.port,
    path: target.pathname,
    method,
    agent: false,
    headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), expect: '100-continue' },
  });
  const answer = new Promise<{ status: number; body: unknown } | { failed: string }>((resolve) => {
    req.once('response', (res) => {
      let data = '';
      res.on('data', (chunk: Buffer) => (data += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) as unknown }));
    });
    req.once('error', (error) => resolve({ failed: String(error) }));
  });
  return new Promise((resolve, reject) => {
    req.once('continue', () =>
      resolve({
        finish: () => {
          req.end(text);
          return answer;
        },
      }),
    );
    req.once('error', reject);
    req.flushHeaders();
  });
}
