import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  admin,
  bind,
  CLIENT_ID,
  call,
  payBody,
  type Receiver,
  signatureHeader,
  startReceiver,
  startTestSandbox,
  type TestSandbox,
  waitFor,
} from './helpers.ts';

let sb: TestSandbox;
let rx: Receiver;
let token: string;
beforeAll(async () => {
  sb = await startTestSandbox();
  rx = await startReceiver();
  token = (await bind(sb, rx, 'ALIPAY_HK')).accessToken;
  await call(sb, 'payments/pay', payBody('ALIPAY_HK', token, '100', rx.url));
  await waitFor(() => rx.received.length >= 2);
  await new Promise((r) => setTimeout(r, 50));
});
afterAll(async () => {
  await sb.stop();
  await rx.close();
});

const APIS = [
  'authorizations/consult',
  'authorizations/applyToken',
  'authorizations/revoke',
  'payments/pay',
  'payments/cancel',
  'payments/refund',
  'customs/declare',
];

/** One malformed request: path, headers, raw body. */
interface Malformed {
  kind: string;
  api: string;
  body: Buffer;
  headers: Record<string, string>;
  /** Sign the body correctly (so the failure is past the signature check). */
  sign: boolean;
}

const wrongValue = fc.constantFrom<unknown>(42, true, null, [], 1.5, -1);
const payPaths = [
  ['productCode'],
  ['paymentRequestId'],
  ['paymentAmount'],
  ['paymentAmount', 'currency'],
  ['paymentAmount', 'value'],
  ['order'],
  ['order', 'referenceOrderId'],
  ['order', 'orderDescription'],
  ['order', 'orderAmount'],
  ['order', 'env'],
  ['paymentMethod'],
  ['paymentMethod', 'paymentMethodType'],
  ['paymentMethod', 'paymentMethodId'],
  ['env'],
  ['env', 'terminalType'],
  ['settlementStrategy'],
];

function withValue(body: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(body);
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = path.at(-1) as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

/** Required pay fields: removing one makes the request malformed. */
const requiredPayPaths = payPaths.filter((p) => !['order.orderAmount', 'order.env', 'env', 'settlementStrategy'].includes(p.join('.')));

const api = fc.constantFrom(...APIS);
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const malformed: fc.Arbitrary<Malformed> = fc.oneof(
  // wrong types or missing fields in an otherwise valid pay request
  {
    weight: 6,
    arbitrary: fc.tuple(fc.constantFrom(...payPaths), wrongValue).map(([path, value]) => ({
      kind: 'pay-field',
      api: 'payments/pay',
      body: json(withValue(payBody('ALIPAY_HK', 'tok', '100') as unknown as Record<string, unknown>, path, value)),
      headers: {},
      sign: true,
    })),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...requiredPayPaths).map((path) => ({
      kind: 'pay-missing',
      api: 'payments/pay',
      body: json(withValue(payBody('ALIPAY_HK', 'tok', '100') as unknown as Record<string, unknown>, path, undefined)),
      headers: {},
      sign: true,
    })),
  },
  // arbitrary JSON objects, signed
  {
    weight: 6,
    arbitrary: fc
      .tuple(api, fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }))
      .map(([a, v]) => ({ kind: 'json', api: a, body: json(v), headers: {}, sign: true })),
  },
  // arbitrary JSON values that are not objects
  {
    weight: 2,
    arbitrary: fc
      .tuple(api, fc.oneof(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }), fc.string(), fc.integer(), fc.constant(null)))
      .map(([a, v]) => ({ kind: 'non-object', api: a, body: json(v), headers: {}, sign: true })),
  },
  // invalid UTF-8 inside a JSON string, signed
  {
    weight: 3,
    arbitrary: fc.tuple(api, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([a, bytes]) => ({
      kind: 'utf8',
      api: a,
      body: Buffer.concat([Buffer.from('{"authState":"'), Buffer.from([0xc3, 0x28]), Buffer.from(bytes), Buffer.from('"}')]),
      headers: {},
      sign: true,
    })),
  },
  // deep nesting, signed
  {
    weight: 3,
    arbitrary: fc.tuple(api, fc.integer({ min: 17, max: 4000 }), fc.boolean()).map(([a, depth, arrays]) => ({
      kind: 'deep',
      api: a,
      body: Buffer.from(arrays ? `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
      headers: {},
      sign: true,
    })),
  },
  // broken JSON text, signed
  {
    weight: 3,
    arbitrary: fc.tuple(api, fc.string({ maxLength: 40 })).map(([a, s]) => ({ kind: 'text', api: a, body: Buffer.from(`{${s}`), headers: {}, sign: true })),
  },
  // a header missing or garbled (body valid JSON)
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        api,
        fc.constantFrom('client-id', 'request-time', 'signature', 'content-type'),
        fc.oneof(
          fc.constant(''),
          fc.string({ minLength: 1, maxLength: 60 }).filter((s) => /^[\x20-\x7e]+$/.test(s)),
        ),
      )
      .map(([a, name, value]) => ({
        kind: `header-${name}`,
        api: a,
        body: json({ accessToken: 'x' }),
        headers: { [name]: value === '' ? ' ' : `${value}~` },
        sign: true,
      })),
  },
  // unsigned random bytes
  {
    weight: 3,
    arbitrary: fc
      .tuple(api, fc.uint8Array({ maxLength: 200 }))
      .map(([a, bytes]) => ({ kind: 'bytes', api: a, body: Buffer.from(bytes), headers: {}, sign: false })),
  },
  // over 1 MB
  {
    weight: 1,
    arbitrary: fc
      .tuple(api, fc.integer({ min: 1, max: 4096 }))
      .map(([a, extra]) => ({ kind: 'large', api: a, body: Buffer.alloc(1024 * 1024 + extra, 0x20), headers: {}, sign: true })),
  },
);

async function send(m: Malformed): Promise<Response> {
  const path = `/ams/api/v1/${m.api}`;
  const time = String(Date.now());
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=UTF-8',
    'client-id': CLIENT_ID,
    'request-time': time,
    signature: m.sign ? signatureHeader('POST', path, CLIENT_ID, time, m.body) : 'algorithm=RSA256,keyVersion=1,signature=AAAA',
  };
  for (const [name, value] of Object.entries(m.headers)) {
    if (value.trim() === '') delete headers[name];
    else headers[name] = value;
  }
  return fetch(`${sb.url}${path}`, { method: 'POST', headers, body: new Uint8Array(m.body) });
}

function snapshot(state: Record<string, unknown>): string {
  const { requests: _r, now: _n, ...rest } = state;
  return JSON.stringify(rest);
}

it('answers 1,000 malformed requests Antom-style, never 5xx, without changing state', async () => {
  const before = snapshot((await admin(sb, 'GET', '/state')).json);
  const kinds = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(malformed, async (m) => {
      kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
      const res = await send(m);
      const text = await res.text();
      expect(res.status, `${m.kind}: ${text.slice(0, 200)}`).toBe(200);
      const body = JSON.parse(text);
      expect(body.result.resultStatus, `${m.kind}: ${text.slice(0, 200)}`).toBe('F');
      expect(body.result.resultCode).toMatch(/^[A-Z_]+$/);
    }),
    { numRuns: 1000 },
  );
  expect((await fetch(`${sb.url}/health`)).status).toBe(200);
  expect(snapshot((await admin(sb, 'GET', '/state')).json)).toBe(before);
  expect(kinds.size).toBeGreaterThanOrEqual(10);
}, 60_000);
