import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { DomainError } from '@scan-to-bind/shared/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type RelayConfigInput } from '../src/config.ts';
import { type ClientRouteDeps, registerClientRoutes } from '../src/http/client-routes.ts';
import { createServer } from '../src/http/server.ts';
import { createLogger } from '../src/logger.ts';
import { kernelBacklogCap, LoopTurn, StartGate } from '../src/ops/overload.ts';
import { engines, TEST_LIMITS, uuid } from './support/env.ts';
import { bind, type Stack, startStack } from './support/stack.ts';

/**
 * Issue 17, "refusals never wait behind work": admission decided before a pay's body is read, a
 * device's pay burst bounded by its own bucket, a loop turn's work budget, the listen backlog set.
 */

const hold = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the event loop is held: the turn runs on
  }
};
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the start gate’s work budget', () => {
  it('refuses a pay once the current loop turn has run its budget, the first pay of a turn always starts, and the next turn starts afresh', async () => {
    const turn = new LoopTurn();
    const gate = new StartGate(100, turn, 5);
    await nextTurn();
    gate.enter();
    hold(6);
    expect(gate.canEnter()).toBe(false);
    expect(() => gate.enter()).toThrow(/OVERLOADED/u);
    await nextTurn();
    expect(gate.canEnter()).toBe(true);
    gate.enter();
    // Off (0): no budget, only the count.
    const off = new StartGate(1, turn, 0);
    hold(6);
    off.enter();
    expect(() => off.enter()).toThrow(/OVERLOADED/u);
  });

  it('reads net.core.somaxconn, or nothing where it cannot', () => {
    expect(kernelBacklogCap(() => '4096\n')).toBe(4096);
    expect(kernelBacklogCap(() => 'x')).toBeUndefined();
    expect(
      kernelBacklogCap(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });
});

describe('pay limits configuration', () => {
  const base = (limits: RelayConfigInput['limits']): RelayConfigInput => ({
    antom: { baseUrl: 'https://open-sea-global.alipay.com', clientId: 'LIVE_1' },
    encryption: { activeKeyId: 'k1', keys: { k1: 'x' } },
    limits,
  });

  it('defaults: a pay burst of half the start gate, a budget, an explicit backlog', () => {
    const { limits } = parseConfig(base(undefined));
    expect(limits.perDevicePayBurst).toBeLessThan(limits.maxStartingPays);
    expect(limits.payTurnBudgetMs).toBeGreaterThan(0);
    expect(limits.listenBacklog).toBeGreaterThan(511);
  });

  it('refuses a pay burst larger than the start gate or the request burst, and a bad budget or backlog', () => {
    expect(() => parseConfig(base({ maxStartingPays: 2, perDevicePayBurst: 3 }))).toThrow(/at most maxStartingPays[\s\S]*limits\.perDevicePayBurst/u);
    expect(() => parseConfig(base({ perDeviceBurst: 2, perDevicePayBurst: 3 }))).toThrow(ConfigError);
    expect(() => parseConfig(base({ payTurnBudgetMs: -1 }))).toThrow(ConfigError);
    expect(() => parseConfig(base({ listenBacklog: 0 }))).toThrow(ConfigError);
    expect(parseConfig(base({ maxStartingPays: 2, perDevicePayBurst: 2 })).limits.perDevicePayBurst).toBe(2);
  });
});

describe('a pay refused by the start gate', () => {
  it('is refused before its body is parsed or its signature checked', async () => {
    const app = createServer(createLogger('silent', new Writable({ write: (_c, _e, done) => done() })));
    let authenticated = 0;
    const devices = {
      authenticate: async (): Promise<never> => {
        authenticated += 1;
        throw new DomainError('DEVICE_UNAUTHORIZED');
      },
    };
    const startGate = new StartGate(1);
    startGate.enter();
    // Only the pay route runs here: the other dependencies are never reached.
    registerClientRoutes(app, { devices, startGate } as unknown as ClientRouteDeps);
    const pay = await app.inject({
      method: 'POST',
      url: '/v1/purchases',
      headers: { 'content-type': 'application/json', 'x-device-id': uuid() },
      payload: '{not json',
    });
    expect(pay.statusCode).toBe(503);
    expect(pay.json()).toMatchObject({ error: { code: 'OVERLOADED' } });
    expect(pay.headers['retry-after']).toBe('1');
    expect(authenticated).toBe(0);
    await app.close();
  });
});

/** One raw HTTP/1.1 exchange on a new socket: the answer's head, and whether the relay closed the socket. */
function rawExchange(url: string, head: string, body: string): Promise<{ head: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ head: text.split('\r\n\r\n')[0] ?? '', closed });
    };
    socket.on('data', (d) => {
      text += d.toString('utf8');
      // Answered: give the relay a moment to close the socket, or not.
      if (text.includes('\r\n\r\n') && !timer) timer = setTimeout(() => done(false), 300);
    });
    socket.on('end', () => done(true));
    socket.on('error', reject);
    socket.write(head + body);
  });
}

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`pay admission (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    let hk: string;
    let launcherHk: string;
    const PAY_BURST = 2;
    beforeAll(async () => {
      s = await startStack(engine.name, {
        limits: { ...TEST_LIMITS, perDevicePaysPerMinute: 1, perDevicePayBurst: PAY_BURST, listenBacklog: 77 },
      });
      hk = await bind(s.kiosk, 'ALIPAY_HK');
      launcherHk = await bind(s.launcher, 'ALIPAY_HK');
    });
    afterAll(async () => s?.close());

    it('one device’s burst of pays takes its pay burst, no more; another device still pays', async () => {
      const pay = (device: Stack['kiosk'], bindingId: string) =>
        device.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
      const burst = await Promise.all(Array.from({ length: 10 }, () => pay(s.kiosk, hk)));
      expect(burst.filter((a) => a.status === 200).length).toBe(PAY_BURST);
      const limited = burst.filter((a) => a.status === 429);
      expect(limited.length).toBe(10 - PAY_BURST);
      for (const r of limited) expect(r.body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
      // Its other requests are not pays: they still pass.
      expect((await s.kiosk.request('GET', '/v1/wallets')).status).toBe(200);
      expect((await pay(s.launcher, launcherHk)).status).toBe(200);
    });

    it('refuses an over-limit pay before reading its body; the kept-alive connection serves the next request', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const { hostname, port } = new URL(s.relay.url);
      const call = (method: string, path: string, body: string, headers: Record<string, string>) =>
        new Promise<{ status: number; text: string; socket: number }>((resolve, reject) => {
          const req = request({ host: hostname, port, method, path, agent, headers: { ...headers, 'content-type': 'application/json' } }, (res) => {
            let text = '';
            res.on('data', (d: Buffer) => {
              text += d.toString('utf8');
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text, socket: req.socket?.localPort ?? 0 }));
          });
          req.on('error', reject);
          req.end(body);
        });
      try {
        // The kiosk's pay bucket is empty (the test above): a body that is not even JSON gets
        // 429, not 400, so it was never parsed.
        const body = '{not json';
        const refused = await call('POST', '/v1/purchases', body, s.kiosk.sign('POST', '/v1/purchases', body));
        expect(refused.status).toBe(429);
        expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'RATE_LIMITED' } });
        const next = await call('GET', '/v1/wallets', '', s.kiosk.sign('GET', '/v1/wallets', ''));
        expect(next.status).toBe(200);
        expect(next.socket).toBe(refused.socket);
      } finally {
        agent.destroy();
      }
    });

    it('closes the connection of a refused pay whose unread body is declared larger than the relay reads', async () => {
      const headers = s.kiosk.sign('POST', '/v1/purchases', '');
      const head = (length: number) =>
        `POST /v1/purchases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\r\n')}\r\n\r\n`;
      const big = await rawExchange(s.relay.url, head(1_000_000), '{"a":');
      expect(big.head).toMatch(/^HTTP\/1\.1 429/u);
      expect(big.head.toLowerCase()).toContain('connection: close');
      expect(big.closed).toBe(true);
      // A small one is read to its end and discarded: the connection stays open.
      const small = await rawExchange(s.relay.url, head(5), '{"a":');
      expect(small.head).toMatch(/^HTTP\/1\.1 429/u);
      expect(small.closed).toBe(false);
    });

    it('listens with the configured backlog', (ctx) => {
      let table: string;
      try {
        table = execFileSync('ss', ['-ltnH', `sport = :${new URL(s.relay.url).port}`], { encoding: 'utf8' });
      } catch (err) {
        ctx.skip(`ss (iproute2) cannot list listening sockets here: ${(err as Error).message}`);
        return;
      }
      // ss shows a listening socket's backlog as its Send-Q (the third column).
      const sendQ = table.trim().split(/\s+/u)[2];
      expect(Number(sendQ)).toBe(Math.min(77, kernelBacklogCap() ?? 77));
    });
  });
}
