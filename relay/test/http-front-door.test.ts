import { connect } from 'node:net';
import { DomainError } from '@scan-to-bind/shared/domain';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClientRouteDeps, PAY_ROUTE, payEarlyRefusal, registerClientRoutes } from '../src/http/client-routes.ts';
import { countRequest, type OpsDeps, registerOps } from '../src/http/ops-routes.ts';
import { answerEarly, createServer } from '../src/http/server.ts';
import { Metrics } from '../src/ops/metrics.ts';
import { Admission, RateLimiter, StartGate } from '../src/ops/overload.ts';
import { send } from './support/client.ts';
import { uuid } from './support/env.ts';
import { capturedLogger } from './support/logs.ts';

/**
 * Issue 17, #3: a pay refused under load is answered on the raw request (server.ts answerEarly),
 * before Fastify makes a request of it, with the answer the pay route's hooks would give.
 */

interface Door {
  app: FastifyInstance;
  url: string;
  metrics: Metrics;
  /** Requests that reached Fastify's hooks. */
  reached: () => number;
  logLines: string[];
  admission: Admission;
  limiter: RateLimiter;
  payLimiter: RateLimiter;
  startGate: StartGate;
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** A public listener wired as index.ts wires it, with a device service that refuses every signature (401). */
async function door(maxInFlight = 100): Promise<Door> {
  const { logger, logs: logLines } = capturedLogger();
  const app = createServer(logger);
  apps.push(app);
  let reached = 0;
  app.addHook('onRequest', (_req, _reply, done) => {
    reached += 1;
    done();
  });
  const metrics = new Metrics();
  const admission = new Admission(maxInFlight);
  registerOps(app, { metrics, admission } as unknown as OpsDeps);
  const devices = {
    authenticate: async (): Promise<never> => {
      throw new DomainError('DEVICE_UNAUTHORIZED');
    },
  };
  const limiter = new RateLimiter(2, 1);
  const payLimiter = new RateLimiter(1, 1);
  const startGate = new StartGate(1);
  registerClientRoutes(app, { devices, limiter, payLimiter, startGate } as unknown as ClientRouteDeps);
  answerEarly(app, PAY_ROUTE, payEarlyRefusal({ admission, limiter, payLimiter, startGate }), (status, seconds) =>
    countRequest(metrics, PAY_ROUTE.method, PAY_ROUTE.url, status, seconds),
  );
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, metrics, reached: () => reached, logLines, admission, limiter, payLimiter, startGate };
}

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
}

/** What a client compares: status, the typed body and the headers a refusal sets. */
function comparable(a: Answer): Answer {
  const h = a.headers;
  return {
    status: a.status,
    body: a.body,
    headers: { 'retry-after': h['retry-after'], 'content-type': h['content-type'], 'content-length': h['content-length'] },
  };
}

/** One request over the listener's socket (the front door sees it). */
const overTheWire = (url: string, method: string, path: string, deviceId: string, body = '{not json'): Promise<Answer> =>
  send(url, method, path, body, { 'x-device-id': deviceId });

/** The same request through Fastify alone (inject never passes the listener's socket, so the front door never sees it). */
async function throughFastify(d: Door, deviceId: string): Promise<Answer> {
  const res = await d.app.inject({
    method: 'POST',
    url: PAY_ROUTE.url,
    headers: { 'content-type': 'application/json', 'x-device-id': deviceId },
    payload: '{not json',
  });
  return { status: res.statusCode, headers: res.headers as Record<string, string>, body: res.json() };
}

describe('the pay’s front door', () => {
  it('answers each early refusal of a pay before Fastify sees it, with the answer the pay route’s hooks give', async () => {
    const d = await door(1);
    const deviceEmpty = uuid();
    d.limiter.take(`device:${deviceEmpty}`);
    const payEmpty = uuid();
    d.payLimiter.take(`pay:${payEmpty}`);
    const cases: { name: string; device: string; status: number; code: string; before?: () => void }[] = [
      { name: 'device bucket empty', device: deviceEmpty, status: 429, code: 'RATE_LIMITED' },
      { name: 'pay bucket empty', device: payEmpty, status: 429, code: 'RATE_LIMITED' },
      { name: 'start gate full', device: uuid(), status: 503, code: 'OVERLOADED', before: () => d.startGate.enter() },
      // Admission runs first: a device with an empty bucket gets admission's 503, not its 429.
      { name: 'admission full', device: deviceEmpty, status: 503, code: 'OVERLOADED', before: () => d.admission.enter() },
    ];
    for (const c of cases) {
      c.before?.();
      const reached = d.reached();
      const early = await overTheWire(d.url, 'POST', PAY_ROUTE.url, c.device);
      expect({ case: c.name, reachedFastify: d.reached() - reached }).toEqual({ case: c.name, reachedFastify: 0 });
      expect({ case: c.name, status: early.status, body: early.body }).toMatchObject({
        case: c.name,
        status: c.status,
        body: { error: { code: c.code } },
      });
      const hooks = await throughFastify(d, c.device);
      expect(d.reached() - reached, c.name).toBe(1);
      expect({ case: c.name, ...comparable(early) }).toEqual({ case: c.name, ...comparable(hooks) });
    }
    // A query string does not dodge the refusal (the route's hooks run before the query is read).
    const withQuery = await overTheWire(d.url, 'POST', `${PAY_ROUTE.url}?x=1`, payEmpty);
    expect(withQuery.status).toBe(503);
  });

  it('passes every request it does not refuse on to Fastify: an admitted pay, another route, another method', async () => {
    const d = await door();
    const payEmpty = uuid();
    d.payLimiter.take(`pay:${payEmpty}`);
    const sent: [string, string, string, number][] = [
      // Admitted: Fastify reads it, and its signature check answers.
      ['POST', PAY_ROUTE.url, uuid(), 401],
      // Not the pay route: the pay bucket is not this route's rule.
      ['GET', PAY_ROUTE.url, payEmpty, 401],
      ['POST', `${PAY_ROUTE.url}/`, payEmpty, 404],
      ['POST', '/v1/bindings', payEmpty, 401],
    ];
    for (const [method, path, device, status] of sent) {
      const reached = d.reached();
      const answer = await overTheWire(d.url, method, path, device, method === 'GET' ? '' : '{}');
      expect({ request: `${method} ${path}`, status: answer.status, reachedFastify: d.reached() - reached }).toEqual({
        request: `${method} ${path}`,
        status,
        reachedFastify: 1,
      });
    }
  });

  it('counts its refusals in the request metrics and the "requests refused" line, as Fastify’s path does', async () => {
    const d = await door();
    const payEmpty = uuid();
    d.payLimiter.take(`pay:${payEmpty}`);
    for (let i = 0; i < 3; i++) expect((await overTheWire(d.url, 'POST', PAY_ROUTE.url, payEmpty)).status).toBe(429);
    d.startGate.enter();
    expect((await overTheWire(d.url, 'POST', PAY_ROUTE.url, uuid())).status).toBe(503);
    const text = d.metrics.render([]);
    expect(text).toContain('relay_http_requests_total{method="POST",route="/v1/purchases",status="429"} 3');
    expect(text).toContain('relay_http_requests_total{method="POST",route="/v1/purchases",status="503"} 1');
    expect(text).toContain('relay_rejected_total{status="429"} 3');
    expect(text).toContain('relay_rejected_total{status="503"} 1');
    expect(text).toContain('relay_http_request_duration_seconds_count{method="POST",route="/v1/purchases"} 4');
    // The first refusal writes the summary line; the rest wait for the next window.
    const summaries = d.logLines.map((l) => JSON.parse(l) as { msg: string; refused?: Record<string, number> }).filter((l) => l.msg === 'requests refused');
    expect(summaries).toEqual([expect.objectContaining({ refused: { '429': 1 } })]);
  });

  it('hands the request to Fastify when its rule throws, and the listener stays up', async () => {
    const app = createServer(capturedLogger().logger);
    apps.push(app);
    const gate = new StartGate(1);
    gate.enter();
    registerClientRoutes(app, { devices: { authenticate: async () => ({}) }, startGate: gate } as unknown as ClientRouteDeps);
    answerEarly(
      app,
      PAY_ROUTE,
      () => {
        throw new Error('a rule that breaks');
      },
      () => undefined,
    );
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    // The pay route's own hook refuses it (the gate is full), as it would without a front door.
    const first = await overTheWire(url, 'POST', PAY_ROUTE.url, uuid());
    expect({ status: first.status, body: first.body }).toMatchObject({ status: 503, body: { error: { code: 'OVERLOADED' } } });
    expect((await overTheWire(url, 'POST', PAY_ROUTE.url, uuid())).status).toBe(503);
  });

  it('leaves a pay arriving while the listener drains to Fastify, which answers 503 and closes the connection', async () => {
    const d = await door();
    const payEmpty = uuid();
    d.payLimiter.take(`pay:${payEmpty}`);
    const { port } = new URL(d.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let text = '';
    socket.on('data', (b: Buffer) => {
      text += b.toString('utf8');
    });
    const ended = new Promise((r) => socket.once('close', r));
    // Half a request: the connection is busy, so the close waits for it.
    socket.write(`POST ${PAY_ROUTE.url} HTTP/1.1\r\nHost: x\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    apps.splice(apps.indexOf(d.app), 1);
    const closed = d.app.close();
    await new Promise((r) => setTimeout(r, 50));
    socket.write(`X-Device-Id: ${payEmpty}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
    await ended;
    await closed;
    expect(text).toMatch(/^HTTP\/1\.1 503 /u);
    expect(text.toLowerCase()).toContain('connection: close');
    // The front door would have answered 429 (the device's pay bucket is empty) and kept the connection.
    expect(text).toContain('"OVERLOADED"');
  });
});
