import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type RunningSandbox, type SandboxOptions, startSandbox } from '../src/index.ts';

/** A self-generated throw-away key pair (Antom publishes no test vector), registered as the merchant key in tests. */
export const VECTOR_PRIVATE_KEY_B64 =
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDUfX6ui9tNpuXDfRn/4feziIbyE+C55cMO42jptqFb8Vk9F++myEoPRTezc6JGTtMkV+ws2IlyVDV2oJxUObdYw9t/Py4TuGaVPZBIfjcDnKUoPq0lURhaUhkqurLoKFGDbiq0b75EuR4k05+jBxLTn/FHanH0ogk3KtTYtAdJSLrauh4WDPoiLWGOWU5+Dmxg1lPuSz9DqTiqluF3F9mB1QCX7DBcrLqZ+oC4nclBbw1xALSy7GaGQLRagxr8mFqCMM9/r3Pxg/2urD9pQLtsrMGX75ABCsHFjyFbQ/jAQhUzy3zvThpYDXN31Vhfzay7CgWAwI9c92t1oeeNqeDnAgMBAAECggEAXyw0VOaEW8Pgjk4WmpLx2IJSetOnaGv+EUmPAHsRy7YOU7xIVSnJbgyBFcm5iYcdr94HhNCZw1DvP0pRqrHNKp9SzSwVrbR+keKooKeTaXU8TgnAkIHBiBbUedx0bGI+nED4NKgGDw7g7vqwOhtdddbiASwujTUULpbrDYKY7tuoWlRZmiug8uGfuDldP/eOA/xRUyCFGvbYkOxNqLbXGnFYA2R3eaedoDmZmshumcpBWPDydIb5sGfLF5t9w9a7GA3ReYdSzETQPFXZfG70pdlo7WbbYArkbVhVxrUaDKMbJinDZLi0133ckzDFvGi8C7/lRV2lq3pbjIF5hutPUQKBgQD9d7R/aVCL87HJF+BCgMozdH03wAnOVoerDZnTNtvG7CxvVZ/+dYVt8Wx9fLxy71fBsZP2bZxbXqp3arc7Zp8DauF2QkYj28XGX1/ocMp789nX4Eb2vMESXnZZBks5Luwc9+Q4o9OkLbI8eA1dIwdCHWYjeZ7tfsgbmAj9KI1WtwKBgQDWnPtWiVoRAfo8gKrS4Se4rBHCNClKNVShCrmgW7p+UyVndu0lsksGEd3V6jErHRACEHgStdtj50SBsRb0ukoXUY9knj25tAHPbei9bPcw+XvoNvKPuf8fdLrwx+Sb0BENOCrF+L0eJOzwJaQ+A780UTdUOfE3P8wmnF3H3BEXUQKBgEVxHUdm8AVXv5aLbwppRHxyZrf2aflY5ZRshn9CYVYPcGEUQWAyjFrBsOp0WSDYB9/uKc5y20qBFgzfdNHWXKxQBPMkVxkN5hJiIOGKvT7WYRFuxaJltjO1I5FiUwuYmmGZXLJT1/D7///nGCozJZLsgQYpFOyWNnaw4Y2SJZ7jAoGANTDVLl5+fyahUauGKxv4z1F+WUa6URUks4FH/pGdiD+tTpZwMl6dL5TwCVuw8gGS/R/90o1WIc2o8gflK6ScRmlFg+egXs1ZgYK5I3HFVlMPPb+YoLy1maNBzfmNFH0eLMuV9lku7jCytNZvfZtKIXpbnzl5Kntaattodud5KPECgYEAi+fRhKGmGz7CLP77D3LYxj7uIyZtF9bnHbd4OJCrLOLjykH3VM5Dk/6WM/UNCwfvUzJ+Tou4ejB5hSVXcAf/mXkb0wKQU9BxB3l4NXtkjALTkeG2gHaAjJ2x+MVxXfz2V1Vusj2qujBDzSR4Un0jr49l4On3Mq76yFa950DE9Zg=';
/** Its public half (SPKI, base64). */
export const VECTOR_PUBLIC_KEY_B64 =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1H1+rovbTablw30Z/+H3s4iG8hPgueXDDuNo6bahW/FZPRfvpshKD0U3s3OiRk7TJFfsLNiJclQ1dqCcVDm3WMPbfz8uE7hmlT2QSH43A5ylKD6tJVEYWlIZKrqy6ChRg24qtG++RLkeJNOfowcS05/xR2px9KIJNyrU2LQHSUi62roeFgz6Ii1hjllOfg5sYNZT7ks/Q6k4qpbhdxfZgdUAl+wwXKy6mfqAuJ3JQW8NcQC0suxmhkC0WoMa/JhagjDPf69z8YP9rqw/aUC7bKzBl++QAQrBxY8hW0P4wEIVM8t8704aWA1zd9VYX82suwoFgMCPXPdrdaHnjang5wIDAQAB';

export const MERCHANT_KEY: KeyObject = createPrivateKey({ key: Buffer.from(VECTOR_PRIVATE_KEY_B64, 'base64'), format: 'der', type: 'pkcs8' });
export const MERCHANT_PUBLIC_PEM = createPublicKey(MERCHANT_KEY).export({ format: 'pem', type: 'spki' }).toString();
export const CLIENT_ID = 'SANDBOX_5YTEST0000000001';

/** A sandbox on an ephemeral loopback port in a fresh temp dir. */
export interface TestSandbox extends RunningSandbox {
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts a sandbox for one test file (compressed notification schedule). */
export async function startTestSandbox(options: Partial<SandboxOptions> = {}): Promise<TestSandbox> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'antom-sandbox-'));
  const sb = await startSandbox({
    port: 0,
    dataDir,
    clientId: CLIENT_ID,
    merchantPublicKeyPem: MERCHANT_PUBLIC_PEM,
    notifyTimeScale: 0.0001,
    adminToken: 'test-admin-token',
    ...options,
  });
  return {
    ...sb,
    dataDir,
    async stop() {
      await sb.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One HTTP answer. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON fields
  json: any;
}

/** Options to tamper with a signed call. */
export interface CallOptions {
  clientId?: string;
  requestTime?: string;
  key?: KeyObject;
  /** Path used in the signature (default: the path called). */
  signPath?: string;
  /** Body used in the signature (default: the body sent). */
  signBody?: Buffer | string;
  /** Client id used in the signature. */
  signClientId?: string;
  /** Request time used in the signature. */
  signRequestTime?: string;
  headers?: Record<string, string>;
  sandboxPath?: boolean;
  signal?: AbortSignal;
}

/** Signs like the Antom SDKs do and returns the header value. */
export function signatureHeader(method: string, path: string, clientId: string, time: string, body: Buffer | string, key: KeyObject = MERCHANT_KEY): string {
  const content = Buffer.concat([Buffer.from(`${method} ${path}\n${clientId}.${time}.`), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
  return `algorithm=RSA256,keyVersion=1,signature=${encodeURIComponent(sign('sha256', content, key).toString('base64'))}`;
}

/** POSTs a signed Antom request. `api` is like 'payments/pay'. */
export async function call(sb: { url: string }, api: string, body: unknown, o: CallOptions = {}): Promise<Answer> {
  const path = `/ams/${o.sandboxPath ? 'sandbox/' : ''}api/v1/${api}`;
  const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const clientId = o.clientId ?? CLIENT_ID;
  const requestTime = o.requestTime ?? String(Date.now());
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=UTF-8',
    'client-id': clientId,
    'request-time': requestTime,
    signature: signatureHeader('POST', o.signPath ?? path, o.signClientId ?? clientId, o.signRequestTime ?? requestTime, o.signBody ?? text, o.key),
    ...o.headers,
  };
  const res = await fetch(`${sb.url}${path}`, { method: 'POST', headers, body: text, signal: o.signal });
  return read(res);
}

async function read(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Verifies an API answer's signature with the sandbox public key. */
export function responseSignatureValid(sb: { publicKeyPem: string }, path: string, a: Answer): boolean {
  const header = a.headers.get('signature');
  const time = a.headers.get('response-time');
  const clientId = a.headers.get('client-id');
  if (!header || !time || !clientId) return false;
  const sig = decodeURIComponent(header.split('signature=')[1] ?? '');
  const content = Buffer.from(`POST ${path}\n${clientId}.${time}.${a.text}`);
  return verify('sha256', content, createPublicKey(sb.publicKeyPem), Buffer.from(sig, 'base64'));
}

/** Calls the admin API. */
export async function admin(sb: TestSandbox, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${sb.url}/__admin${path}`, {
    method,
    headers: { authorization: `Bearer ${sb.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return read(res);
}

/** A notification received by the fake merchant. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON fields
  json: any;
}

/** A fake merchant notification endpoint. */
export interface Receiver {
  url: string;
  received: Received[];
  /** Decides the answer per notification; default the exact ack. `undefined`: never answer (the request hangs). */
  respond: (n: Received, index: number) => { status: number; body: string; headers?: Record<string, string> } | undefined;
  /** TCP connections the endpoint has accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** Antom's exact notification acknowledgement. */
export const ACK = '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}';

/** Starts a merchant notification endpoint on loopback. */
export async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    received: [],
    respond: () => ({ status: 200, body: ACK }),
    connections: 0,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const n: Received = { path: req.url ?? '', headers: req.headers, body, json };
      receiver.received.push(n);
      const answer = receiver.respond(n, receiver.received.length - 1);
      if (answer) res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body);
    });
  });
  server.on('connection', () => {
    receiver.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  receiver.url = `http://127.0.0.1:${port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** Verifies a notification's signature with the sandbox key (Antom's RSA256 message signature). */
export function notificationSignatureValid(sb: { publicKeyPem: string; clientId: string }, n: Received): boolean {
  const header = String(n.headers['signature'] ?? '');
  const time = String(n.headers['request-time'] ?? '');
  const sig = decodeURIComponent(header.split('signature=')[1] ?? '');
  const content = Buffer.from(`POST ${n.path}\n${sb.clientId}.${time}.${n.body}`);
  return n.headers['client-id'] === sb.clientId && verify('sha256', content, createPublicKey(sb.publicKeyPem), Buffer.from(sig, 'base64'));
}

/** Polls until the check (sync or async) passes (short intervals; fails after `timeoutMs`). */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

let seq = 0;
/** A unique id for request ids and auth states. */
export function uid(prefix: string): string {
  seq += 1;
  return `${prefix}-${Date.now().toString(36)}-${seq}`;
}

/** A consult body for a wallet. */
export function consultBody(wallet: 'ALIPAY_HK' | 'DANA', notifyUrl: string, authState = uid('STATE')) {
  return {
    customerBelongsTo: wallet,
    authRedirectUrl: 'https://merchant.example/auth/return',
    scopes: ['AGREEMENT_PAY'],
    authState,
    env: { terminalType: 'WEB' },
    terminalType: 'WEB',
    authNotifyUrl: `${notifyUrl}/notify/auth`,
  };
}

/** Binds a wallet end to end: consult → wallet page authorize → AUTHCODE_CREATED → applyToken. */
export async function bind(
  sb: TestSandbox,
  receiver: Receiver,
  wallet: 'ALIPAY_HK' | 'DANA',
  account?: string,
): Promise<{ accessToken: string; refreshToken: string; json: Answer['json'] }> {
  const c = await call(sb, 'authorizations/consult', consultBody(wallet, receiver.url));
  const codeValue: string = c.json.authCodeForm.codeDetails[0].codeValue;
  const before = receiver.received.length;
  const res = await fetch(`${codeValue}/authorize`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: JSON.stringify(account ? { account } : {}),
  });
  if (res.status !== 200) throw new Error(`authorize answered ${res.status}`);
  const n = await waitFor(() => receiver.received.slice(before).find((r) => r.json?.authorizationNotifyType === 'AUTHCODE_CREATED'));
  const t = await call(sb, 'authorizations/applyToken', { grantType: 'AUTHORIZATION_CODE', customerBelongsTo: wallet, authCode: n.json.authCode });
  if (t.json.result.resultStatus !== 'S') throw new Error(`applyToken failed: ${t.text}`);
  return { accessToken: t.json.accessToken, refreshToken: t.json.refreshToken, json: t.json };
}

/** A pay body. */
export function payBody(wallet: 'ALIPAY_HK' | 'DANA', accessToken: string, value: string, notifyUrl?: string, paymentRequestId = uid('PAY')) {
  const currency = wallet === 'ALIPAY_HK' ? 'HKD' : 'IDR';
  return {
    productCode: 'AGREEMENT_PAYMENT',
    paymentRequestId,
    paymentAmount: { currency, value },
    order: { referenceOrderId: uid('ORD'), orderDescription: 'Game credits', orderAmount: { currency, value }, env: { terminalType: 'WEB' } },
    paymentMethod: { paymentMethodType: wallet, paymentMethodId: accessToken },
    ...(notifyUrl ? { paymentNotifyUrl: `${notifyUrl}/notify/pay` } : {}),
    settlementStrategy: { settlementCurrency: currency },
    env: { terminalType: 'WEB' },
  };
}

/**
 * Starts one sandbox and one notification receiver for a test file (beforeAll) and stops both
 * afterwards; `use` hands them to the file's variables. With `resetEach`, every test starts
 * from the seeded state (admin reset).
 */
export function useSandboxAndReceiver(use: (sb: TestSandbox, rx: Receiver) => void, options: { resetEach?: boolean } = {}): void {
  let sb: TestSandbox | undefined;
  let rx: Receiver | undefined;
  beforeAll(async () => {
    sb = await startTestSandbox();
    rx = await startReceiver();
    use(sb, rx);
  });
  if (options.resetEach) {
    beforeEach(async () => {
      if (sb) await admin(sb, 'POST', '/reset');
    });
  }
  afterAll(async () => {
    await sb?.stop();
    await rx?.close();
  });
}

/** The file's sandbox and receiver (set before its first test), reset to the seeded state before each test. */
export function useFreshSandbox(): { readonly sb: TestSandbox; readonly rx: Receiver } {
  const env = {} as { sb: TestSandbox; rx: Receiver };
  useSandboxAndReceiver(
    (sb, rx) => {
      env.sb = sb;
      env.rx = rx;
    },
    { resetEach: true },
  );
  return env;
}
