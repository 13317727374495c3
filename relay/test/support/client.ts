import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { signClientRequest } from '../../src/devices/client-signature.ts';

/** What a device holds after enrolment. */
export interface DeviceCredentials {
  deviceId: string;
  deviceSecret: string;
}

/** A response: status and parsed JSON. */
export interface JsonResponse {
  status: number;
  body: Record<string, unknown>;
}

/** A player assertion, or a provider that mints a fresh one for each request (as a launcher asks its studio). */
export type AssertionSource = string | (() => string);

/**
 * A test device speaking the client protocol over real HTTP, signing exactly as documented
 * (the X-Player-Assertion header is covered by the signature). `tamper` lets a test change the
 * request after signing.
 */
export class TestDevice {
  constructor(
    readonly baseUrl: string,
    readonly creds: DeviceCredentials,
    public assertion?: AssertionSource,
    readonly now: () => number = Date.now,
  ) {}

  /** The assertion the next request carries (a provider is asked afresh). */
  currentAssertion(): string | undefined {
    return typeof this.assertion === 'function' ? this.assertion() : this.assertion;
  }

  /** Builds the signed headers of a request. */
  sign(method: string, pathWithQuery: string, body: string, at = this.now()): Record<string, string> {
    const timestamp = String(at);
    const nonce = randomBytes(16).toString('base64url');
    const playerAssertion = this.currentAssertion();
    const signature = signClientRequest(this.creds.deviceSecret, { method, pathWithQuery, timestamp, nonce, body, playerAssertion });
    return {
      'x-device-id': this.creds.deviceId,
      'x-timestamp': timestamp,
      'x-nonce': nonce,
      'x-signature': signature,
      ...(playerAssertion ? { 'x-player-assertion': playerAssertion } : {}),
    };
  }

  /** Sends a signed request; `tamper` may rewrite the body or headers after signing. */
  async request(
    method: string,
    pathWithQuery: string,
    json?: unknown,
    options: { tamperBody?: (body: string) => string; headers?: (h: Record<string, string>) => Record<string, string>; at?: number } = {},
  ): Promise<JsonResponse> {
    const body = json === undefined ? '' : JSON.stringify(json);
    let headers = this.sign(method, pathWithQuery, body, options.at);
    if (options.headers) headers = options.headers(headers);
    const sent = options.tamperBody ? options.tamperBody(body) : body;
    return send(this.baseUrl, method, pathWithQuery, sent, headers);
  }
}

/** Sends a raw request and parses the JSON answer; its headers come with it. */
export async function send(
  baseUrl: string,
  method: string,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<JsonResponse & { headers: Record<string, string> }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body ? { body } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: Object.fromEntries(res.headers) };
}

/**
 * A JSON POST from a chosen local address (Linux routes all of 127.0.0.0/8 to loopback, so
 * `127.0.0.2` is a second client address); answers with the status, body and headers.
 */
export function postFrom(
  localAddress: string,
  baseUrl: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<JsonResponse & { headers: Record<string, string | string[] | undefined> }> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Enrols a device with a one-time code over HTTP. */
export async function enroll(baseUrl: string, code: string, label?: string): Promise<DeviceCredentials & { kind: string }> {
  const res = await send(baseUrl, 'POST', '/v1/devices/enroll', JSON.stringify({ code, ...(label ? { label } : {}) }), {});
  if (res.status !== 201) throw new Error(`enroll failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as unknown as DeviceCredentials & { kind: string };
}

/** One Server-Sent Event. */
export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Opens the signed event stream and collects events until `close()`. */
export async function openEvents(
  device: TestDevice,
): Promise<{ events: SseEvent[]; next(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>; close(): void }> {
  const controller = new AbortController();
  const res = await fetch(`${device.baseUrl}/v1/events`, { headers: device.sign('GET', '/v1/events', ''), signal: controller.signal });
  if (res.status !== 200 || !res.body) throw new Error(`events: ${res.status}`);
  const events: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let at = buffer.indexOf('\n\n');
        while (at >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) {
            events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
            for (const w of waiters.splice(0)) w();
          }
          at = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    async next(match, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      let seen = 0;
      for (;;) {
        const hit = events.slice(seen).find(match);
        if (hit) return hit;
        seen = 0;
        if (Date.now() > until) throw new Error('timed out waiting for an event');
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    close: () => controller.abort(),
  };
}
