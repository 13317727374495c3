import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { type Device, signed } from './stack.ts';

/** What one load run saw from the client side. */
export interface LoadResult {
  seconds: number;
  /** Responses by status code. */
  byStatus: Record<number, number>;
  /** Client-side response times (ms) by status code. */
  latencyByStatus: Record<number, number[]>;
  errors: number;
}

export interface LoadOptions {
  url: string;
  devices: Device[];
  kind: 'pay' | 'read';
  connections: number;
  /** Seconds (bounded) … */
  duration?: number;
  /** … or a request count. */
  amount?: number;
}

/**
 * Runs autocannon against the relay (closed loop: each connection sends its next request when
 * the last is answered), signing every request afresh (new nonce, new intent id). For load at a
 * fixed rate use paced.ts: autocannon's rate option sends each second's quota as one burst.
 */
export function load(o: LoadOptions): Promise<LoadResult> {
  let i = 0;
  const byStatus: Record<number, number> = {};
  const latencyByStatus: Record<number, number[]> = {};
  const requests = [
    {
      setupRequest: (req: { headers?: Record<string, string> }) => {
        const d = o.devices[i++ % o.devices.length] as Device;
        if (o.kind === 'read') {
          const path = '/v1/catalogue?currency=HKD';
          return { ...req, method: 'GET', path, headers: signed(d, 'GET', path, '') };
        }
        const intent = randomUUID();
        const body = JSON.stringify({ bindingId: d.bindingId, sku: 'bench-1', quantity: 1, purchaseIntentId: intent });
        return { ...req, method: 'POST', path: '/v1/purchases', headers: signed(d, 'POST', '/v1/purchases', body), body };
      },
    },
  ];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const hardStop = setTimeout(() => instance.stop(), ((o.duration ?? 120) + 30) * 1000);
    const instance = autocannon(
      {
        url: o.url,
        connections: o.connections,
        timeout: 20,
        requests,
        ...(o.duration ? { duration: o.duration } : {}),
        ...(o.amount ? { amount: o.amount } : {}),
      },
      (err, result) => {
        clearTimeout(hardStop);
        if (err) return reject(err);
        resolve({ seconds: (performance.now() - started) / 1000, byStatus, latencyByStatus, errors: result.errors });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      const list = latencyByStatus[status] ?? [];
      list.push(ms);
      latencyByStatus[status] = list;
    });
  });
}
