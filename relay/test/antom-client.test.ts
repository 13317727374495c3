import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AntomClient } from '../src/antom/client.ts';
import { signatureHeader, signBase64, signContent, verifyBase64 } from '../src/antom/signature.ts';
import { systemClock } from '../src/clock.ts';

/**
 * The Antom client's transport, against a raw HTTP server on loopback: what reaches the
 * server, and how every way an exchange can go wrong becomes `unknown` (never a re-send).
 */
const CLIENT_ID = 'SANDBOX_5YTEST0000000001';
const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const antomKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  socketPort: number;
}

let server: Server | undefined;
let client: AntomClient | undefined;

afterEach(async () => {
  client?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = client = undefined;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ path: req.url ?? '', headers: req.headers, body, socketPort: req.socket.remotePort ?? 0 });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function makeClient(baseUrl: string, timeoutMs = 2_000): AntomClient {
  client = new AntomClient({
    baseUrl,
    clientId: CLIENT_ID,
    keyVersion: '1',
    merchantPrivateKey: merchant.privateKey,
    antomPublicKey: antomKeys.publicKey,
    timeoutMs,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
  });
  return client;
}

/** Answers like Antom: signed with Antom's key over the request's path. */
function signedAnswer(req: IncomingMessage, res: ServerResponse, payload: unknown): void {
  const text = JSON.stringify(payload);
  const time = String(Date.now());
  const path = (req.url ?? '').replace(/^\/prefix/u, '');
  const sig = signBase64(antomKeys.privateKey, signContent('POST', path, CLIENT_ID, time, text));
  res.writeHead(200, { 'content-type': 'application/json', 'client-id': CLIENT_ID, 'response-time': time, signature: signatureHeader('1', sig) });
  res.end(text);
}

const SUCCESS = { result: { resultStatus: 'S', resultCode: 'SUCCESS', resultMessage: 'success' }, paymentId: 'p-1' };

describe('Antom client transport', () => {
  it('sends one signed POST (Antom RSA256) and returns the verified answer; connections are reused', async () => {
    const { url, seen } = await serve((req, res) => signedAnswer(req, res, SUCCESS));
    const c = makeClient(url);
    const first = await c.send('pay', { paymentRequestId: 'r-1', note: '中文 ✓' });
    const second = await c.send('pay', { paymentRequestId: 'r-2' });
    expect(first).toEqual({ kind: 'answer', result: SUCCESS.result, body: SUCCESS });
    expect(second.kind).toBe('answer');
    expect(seen).toHaveLength(2);
    const [a, b] = seen as [Seen, Seen];
    expect(a.path).toBe('/ams/sandbox/api/v1/payments/pay');
    expect(a.body).toBe(JSON.stringify({ paymentRequestId: 'r-1', note: '中文 ✓' }));
    expect(a.headers['content-length']).toBe(String(Buffer.byteLength(a.body)));
    expect(a.headers['client-id']).toBe(CLIENT_ID);
    const sig = decodeURIComponent(/signature=(.*)$/u.exec(a.headers['signature'] as string)?.[1] ?? '');
    const signed = signContent('POST', a.path, CLIENT_ID, a.headers['request-time'] as string, a.body);
    expect(verifyBase64(merchant.publicKey, signed, sig)).toBe(true);
    expect(b.socketPort).toBe(a.socketPort);
  });

  it('call() reads the answer once into the typed outcome of its API', async () => {
    const { url } = await serve((req, res) => signedAnswer(req, res, { ...SUCCESS, paymentTime: '2026-01-02T03:04:05Z' }));
    const outcome = await makeClient(url).call('inquiryPayment', { paymentRequestId: 'r-1' });
    expect(outcome).toEqual({ kind: 'succeeded', code: 'SUCCESS', answer: { paymentId: 'p-1', paymentTime: Date.parse('2026-01-02T03:04:05Z') } });
  });

  it('keeps a path prefix of the base URL', async () => {
    const { url, seen } = await serve((req, res) => signedAnswer(req, res, SUCCESS));
    const outcome = await makeClient(`${url}/prefix/`).send('inquiryPayment', { paymentRequestId: 'r-1' });
    expect(seen[0]?.path).toBe('/prefix/ams/sandbox/api/v1/payments/inquiryPayment');
    expect(outcome.kind).toBe('answer');
  });

  it('no answer within timeoutMs is unknown:timeout, sent once', async () => {
    const { url, seen } = await serve(() => undefined);
    const started = Date.now();
    const outcome = await makeClient(url, 300).send('pay', { paymentRequestId: 'r-1' });
    expect(outcome).toMatchObject({ kind: 'unknown', reason: 'timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(seen).toHaveLength(1);
  });

  it('a body that stalls halfway is unknown:timeout', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"result":');
    });
    expect(await makeClient(url, 300).send('pay', {})).toMatchObject({ kind: 'unknown', reason: 'timeout' });
  });

  it('a connection dropped before the answer is unknown:network, never re-sent', async () => {
    const { url, seen } = await serve((req) => req.socket.destroy());
    expect(await makeClient(url).send('pay', { paymentRequestId: 'r-1' })).toMatchObject({ kind: 'unknown', reason: 'network' });
    expect(seen).toHaveLength(1);
  });

  it('a refused connection is unknown:network', async () => {
    const { url } = await serve(() => undefined);
    server?.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(await makeClient(url).send('pay', {})).toMatchObject({ kind: 'unknown', reason: 'network' });
  });

  it('an answer over 1 MiB is cut off as unknown:network', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"result":{"resultStatus":"S","resultCode":"SUCCESS"},"pad":"${'x'.repeat(1_100_000)}"}`);
    });
    expect(await makeClient(url).send('pay', {})).toMatchObject({ kind: 'unknown', reason: 'network' });
  });

  it('HTTP 500, an unsigned S and a forged signature are unknown, not answers', async () => {
    let mode = 'http';
    const { url } = await serve((req, res) => {
      if (mode === 'http') {
        res.writeHead(500);
        res.end('oops');
      } else if (mode === 'unsigned') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(SUCCESS));
      } else {
        signedAnswer(req, res, SUCCESS);
      }
    });
    const c = makeClient(url);
    expect(await c.send('pay', {})).toMatchObject({ kind: 'unknown', reason: 'http' });
    mode = 'unsigned';
    expect(await c.send('pay', {})).toMatchObject({ kind: 'unknown', reason: 'unverified' });
    mode = 'signed';
    expect((await c.send('pay', {})).kind).toBe('answer');
  });

  // An answer without Antom's signature is not Antom's word: anyone on the path can
  // write it. Antom omits the signature only on a refused request signature, but an attacker can
  // send exactly that, so a missing or bad signature is unknown for every endpoint, never an F.
  it.each(['INVALID_SIGNATURE', 'SIGNATURE_INVALID', 'KEY_NOT_FOUND', 'CLIENT_INVALID'])(
    'an unsigned F %s is unknown:unverified, not a refusal',
    async (code) => {
      const { url } = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'client-id': CLIENT_ID, 'response-time': String(Date.now()) });
        res.end(JSON.stringify({ result: { resultStatus: 'F', resultCode: code, resultMessage: 'forged' } }));
      });
      const c = makeClient(url);
      for (const endpoint of ['pay', 'refund', 'cancel', 'revoke', 'consult', 'applyToken', 'inquiryPayment'] as const) {
        expect(await c.send(endpoint, {})).toMatchObject({ kind: 'unknown', reason: 'unverified' });
      }
    },
  );

  it('an F signed with another key is unknown:unverified', async () => {
    const impostor = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { url } = await serve((req, res) => {
      const text = JSON.stringify({ result: { resultStatus: 'F', resultCode: 'USER_BALANCE_NOT_ENOUGH' } });
      const time = String(Date.now());
      const sig = signBase64(impostor.privateKey, signContent('POST', req.url ?? '', CLIENT_ID, time, text));
      res.writeHead(200, { 'content-type': 'application/json', 'client-id': CLIENT_ID, 'response-time': time, signature: signatureHeader('1', sig) });
      res.end(text);
    });
    expect(await makeClient(url).send('pay', {})).toMatchObject({ kind: 'unknown', reason: 'unverified' });
  });

  it('close() drops the kept-alive connections', async () => {
    const { url } = await serve((req, res) => signedAnswer(req, res, SUCCESS));
    const c = makeClient(url);
    await c.send('pay', {});
    const open = (): Promise<number> => new Promise((r) => server?.getConnections((_e, n) => r(n)));
    expect(await open()).toBe(1);
    c.close();
    for (let i = 0; i < 50 && (await open()) > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await open()).toBe(0);
  });

  it('refuses a base URL that is not http(s)', () => {
    expect(() => makeClient('ftp://antom.example')).toThrow(/http/u);
    client = undefined;
  });
});
