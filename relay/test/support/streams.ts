import { signatureHeader, signBase64, signContent } from '../../src/antom/signature.ts';
import { enroll, type JsonResponse, send, TestDevice } from './client.ts';
import type { Stack } from './stack.ts';

/** One event stream as a device holds it: its events, and how and when it ended. */
export interface HeldStream {
  status: number;
  retryAfter: string | null;
  /** Each event as read, with when its chunk arrived (`performance.now()`: the bench's push latency). */
  events: { event: string; data: string; at: number }[];
  /** Resolves when the server ends the stream: the `end` event's reason (undefined: none sent). */
  ended: Promise<{ reason: string | undefined; atMs: number }>;
  /** Whether the server has ended it yet. */
  readonly open: boolean;
  close(): void;
}

/** Opens GET /v1/events for `device` and reads it in the background. */
export async function holdStream(device: TestDevice): Promise<HeldStream> {
  const controller = new AbortController();
  const t0 = Date.now();
  const res = await fetch(`${device.baseUrl}/v1/events`, { headers: device.sign('GET', '/v1/events', ''), signal: controller.signal });
  const events: HeldStream['events'] = [];
  let open = res.status === 200;
  const ended = (async () => {
    if (res.status !== 200 || !res.body) {
      // The test may abort before the refusal's body is read: that is no error.
      await res.text().catch(() => '');
      return { reason: undefined, atMs: Date.now() - t0 };
    }
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const arrived = performance.now();
        buffer += decoder.decode(chunk, { stream: true });
        for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const event = /^event: (.*)$/mu.exec(block)?.[1];
          const data = /^data: (.*)$/mu.exec(block)?.[1];
          if (event && data !== undefined) events.push({ event, data, at: arrived });
        }
      }
    } catch {
      // aborted by the test
    }
    open = false;
    const end = events.find((e) => e.event === 'end');
    return { reason: end ? ((JSON.parse(end.data) as { reason?: string }).reason ?? '') : undefined, atMs: Date.now() - t0 };
  })();
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    events,
    ended,
    get open() {
      return open;
    },
    close: () => controller.abort(),
  };
}

/** A long-poll in flight: its answer and how long it took. */
export interface HeldPoll {
  answer: Promise<JsonResponse & { ms: number; retryAfter: string | null }>;
  close(): void;
}

/** Sends GET /v1/bindings/:id?waitForChange=<version>. */
export function holdPoll(device: TestDevice, bindingId: string, version: number): HeldPoll {
  const controller = new AbortController();
  const path = `/v1/bindings/${bindingId}?waitForChange=${version}`;
  const t0 = Date.now();
  const answer = (async () => {
    const res = await fetch(`${device.baseUrl}${path}`, { headers: device.sign('GET', path, ''), signal: controller.signal });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      ms: Date.now() - t0,
      retryAfter: res.headers.get('retry-after'),
    };
  })();
  answer.catch(() => undefined);
  return { answer, close: () => controller.abort() };
}

/** Enrols one more kiosk on the stack's relay. */
export async function newKiosk(s: Stack, label = 'Kiosk'): Promise<TestDevice> {
  const code = await s.relay.devices.createEnrollmentCode({ label, kind: 'kiosk', lifetimeMs: 86_400_000 });
  return new TestDevice(s.relay.url, await enroll(s.relay.url, code.code), undefined, () => s.clock.now());
}

/** A kiosk with a binding showing its QR (so it has something to long-poll). */
export async function kioskWithBinding(s: Stack): Promise<{ device: TestDevice; bindingId: string; version: number }> {
  const device = await newKiosk(s);
  const started = await device.request('POST', '/v1/bindings', { wallet: 'ALIPAY_HK' });
  if (started.status !== 201) throw new Error(`binding: ${started.status} ${JSON.stringify(started.body)}`);
  return { device, bindingId: started.body['bindingId'] as string, version: started.body['version'] as number };
}

/** Posts a notifyPayment signed with the sandbox's ("Antom's") key; the relay must answer 200. */
export async function signedPaymentNotification(s: Stack, paymentRequestId = 'pay_unknown_0001'): Promise<JsonResponse> {
  const clientId = s.relay.config.antom.clientId;
  const body = JSON.stringify({
    notifyType: 'PAYMENT_RESULT',
    paymentRequestId,
    result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
  });
  const time = String(Date.now());
  const signature = signatureHeader('1', signBase64(s.antomPrivateKey, signContent('POST', '/antom/notify/payment', clientId, time, body)));
  return send(s.relay.url, 'POST', '/antom/notify/payment', body, { 'client-id': clientId, 'request-time': time, signature });
}

/** A gauge's value in /metrics (NaN when absent). */
export async function gauge(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'mu').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether `p` settles within `ms`. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    sleep(ms).then(() => false),
  ]);
}
