import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { ACK, admin, bind, call, payBody, startReceiver, startTestSandbox, useFreshSandbox, waitFor } from './helpers.ts';

/*
 * How notifications travel (notify/notifier.ts): node:http over kept-alive connections, no
 * redirect followed, a failed connection recorded as a failed attempt, and a delivery in flight
 * cut when the sandbox stops.
 */
const env = useFreshSandbox();

interface Attempt {
  httpStatus?: number;
  acknowledged: boolean;
  error?: string;
}
async function notificationOf(paymentRequestId: string): Promise<{ status: string; attempts: Attempt[] } | undefined> {
  const state = (await admin(env.sb, 'GET', '/state')).json;
  return state.notifications.find((n: { body: { paymentRequestId?: string } }) => n.body.paymentRequestId === paymentRequestId);
}

beforeEach(() => {
  env.rx.respond = () => ({ status: 200, body: ACK });
});

describe('notification transport', () => {
  it('sends one notification after another over one kept-alive connection', async () => {
    const { sb, rx } = env;
    const { accessToken } = await bind(sb, rx, 'ALIPAY_HK');
    const before = rx.connections;
    for (let i = 0; i < 3; i++) {
      const body = payBody('ALIPAY_HK', accessToken, '100', rx.url);
      expect((await call(sb, 'payments/pay', body)).json.result.resultStatus).toBe('S');
      await waitFor(async () => (await notificationOf(body.paymentRequestId))?.status === 'DELIVERED');
    }
    // The authorization notification of the binding opened the connection (or an earlier test did).
    expect(rx.connections).toBeGreaterThanOrEqual(1);
    expect(rx.connections - before).toBe(0);
  });

  it('does not follow a redirect: the answer is not the ack, and the delivery is retried', async () => {
    const { sb, rx } = env;
    const { accessToken } = await bind(sb, rx, 'ALIPAY_HK');
    rx.respond = (n) => (n.path === '/elsewhere' ? { status: 200, body: ACK } : { status: 302, body: '', headers: { location: `${rx.url}/elsewhere` } });
    const body = payBody('ALIPAY_HK', accessToken, '100', rx.url);
    await call(sb, 'payments/pay', body);
    const n = await waitFor(async () => {
      const found = await notificationOf(body.paymentRequestId);
      return found && found.attempts.length >= 2 ? found : undefined;
    });
    expect(n.status).toBe('PENDING');
    for (const a of n.attempts) expect(a).toMatchObject({ httpStatus: 302, acknowledged: false });
    expect(rx.received.filter((r) => r.path === '/elsewhere')).toHaveLength(0);
  });

  it('records a refused connection as a failed attempt and keeps the notification for a retry', async () => {
    const { sb, rx } = env;
    const { accessToken } = await bind(sb, rx, 'ALIPAY_HK');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const body = payBody('ALIPAY_HK', accessToken, '100', `http://127.0.0.1:${port}`);
    await call(sb, 'payments/pay', body);
    const n = await waitFor(async () => {
      const found = await notificationOf(body.paymentRequestId);
      return found && found.attempts.length >= 1 ? found : undefined;
    });
    expect(n.status).toBe('PENDING');
    expect(n.attempts[0]?.acknowledged).toBe(false);
    expect(n.attempts[0]?.httpStatus).toBeUndefined();
    expect(n.attempts[0]?.error).toMatch(/ECONNREFUSED/u);
  });
});

describe('stopping the sandbox', () => {
  it('cuts a delivery that is waiting for its answer', async () => {
    const sb = await startTestSandbox();
    const rx = await startReceiver();
    let cut = false;
    const hanging = createServer((req) => {
      req.resume();
      req.socket.once('close', () => {
        cut = true;
      });
    });
    try {
      await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
      const { accessToken } = await bind(sb, rx, 'ALIPAY_HK');
      const seen = new Promise<void>((resolve) => hanging.once('request', () => resolve()));
      await call(sb, 'payments/pay', payBody('ALIPAY_HK', accessToken, '100', `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`));
      await seen;
      await sb.stop();
      // The attempt's own timeout is 10 s; the stop cuts it at once.
      await waitFor(() => cut, 2000);
      expect(cut).toBe(true);
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
      await rx.close();
    }
  });
});
