import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { LoadResult } from './load.ts';
import { type Device, signed } from './stack.ts';

/**
 * Open-loop load at a fixed rate with evenly spaced arrivals, for the figures "at a rate" (#2,
 * #3). Request i is due at start + i / rate and is sent then whether or not earlier answers
 * came back; its latency is counted from when it was due (so a late send counts against the
 * relay, no coordinated omission), as wrk2 does.
 *
 * Why not autocannon's `overallRate` for these: autocannon gives each connection a quota of
 * requests per second and resets every quota together once a second (lib/httpClient.js,
 * `reqsMadeThisSecond`), so "R per second" reaches the relay as one burst of R requests at
 * each second boundary. The latency then measures draining a burst, not serving a rate.
 * autocannon stays for the closed-loop saturation of #1 and the read volume of #8.
 */
export interface PacedOptions {
  url: string;
  devices: Device[];
  /** Requests per second. */
  rate: number;
  seconds: number;
  /** Sockets at most (kept alive); beyond it requests wait for a socket, and that wait counts. */
  maxSockets?: number;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
  /** Connections opened (GET /healthz) before the timed part, so no run starts by opening hundreds. */
  warmSockets?: number;
}

interface Prepared {
  body: string;
  headers: Record<string, string>;
}

/** Opens `n` kept-alive connections on `agent` with concurrent GET /healthz. */
async function warm(target: URL, agent: Agent, n: number): Promise<void> {
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve) => {
          const req = request({ host: target.hostname, port: target.port, path: '/healthz', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve());
          });
          req.on('error', () => resolve());
          req.end();
        }),
    ),
  );
}

/** What `paced` measured: LoadResult, and when each answered request was due. */
export interface PacedResult extends LoadResult {
  /** Per status, parallel to `latencyByStatus`: when each request was due (ms after the run's start). */
  dueByStatus: Record<number, number[]>;
}

/**
 * The latencies of `statuses` split by when their request was due: before `ms` into the run, and
 * after (bench #3 prints both: a run's first moments carry its burst of accepted pays and the
 * generator's new connections, docs/benchmarks.md, issue 17's tenth session).
 */
export function latencyByDue(res: PacedResult, statuses: number[], ms: number): { early: number[]; late: number[] } {
  const early: number[] = [];
  const late: number[] = [];
  for (const status of statuses) {
    const lat = res.latencyByStatus[status] ?? [];
    const due = res.dueByStatus[status] ?? [];
    for (const [i, l] of lat.entries()) ((due[i] as number) < ms ? early : late).push(l);
  }
  return { early, late };
}

export async function paced(o: PacedOptions): Promise<PacedResult> {
  const target = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 256 });
  // Signed before the clock starts (timestamps stay well inside the relay's 5-minute window), so
  // the generator's own CPU per request is a socket write, not an HMAC and a UUID.
  const count = Math.max(1, Math.round(o.rate * o.seconds));
  const requests: Prepared[] = Array.from({ length: count }, (_, i) => {
    const d = o.devices[i % o.devices.length] as Device;
    const body = JSON.stringify({ bindingId: d.bindingId, sku: 'bench-1', quantity: 1, purchaseIntentId: randomUUID() });
    return { body, headers: signed(d, 'POST', '/v1/purchases', body) };
  });
  await warm(target, agent, o.warmSockets ?? 32);
  const byStatus: Record<number, number> = {};
  const latencyByStatus: Record<number, number[]> = {};
  const dueByStatus: Record<number, number[]> = {};
  let errors = 0;
  let sent = 0;
  let open = 0;
  const total = count;
  const started = performance.now();
  const timeoutMs = o.timeoutMs ?? 20_000;

  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      agent.destroy();
      resolve({ seconds: (performance.now() - started) / 1000, byStatus, latencyByStatus, dueByStatus, errors });
    };
    const settle = (): void => {
      open -= 1;
      if (sent === total && open === 0) finish();
    };
    const fire = (due: number): void => {
      const { body, headers } = requests[sent] as Prepared;
      sent += 1;
      open += 1;
      const req = request({ host: target.hostname, port: target.port, path: '/v1/purchases', method: 'POST', agent, headers, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          byStatus[status] = (byStatus[status] ?? 0) + 1;
          const list = latencyByStatus[status] ?? [];
          list.push(performance.now() - due);
          latencyByStatus[status] = list;
          const dues = dueByStatus[status] ?? [];
          dues.push(due - started);
          dueByStatus[status] = dues;
          settle();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors += 1;
        settle();
      });
      req.end(body);
    };
    const tick = (): void => {
      const now = performance.now();
      // Everything due by now goes out (a late timer sends the missed ones at once; their latency
      // still counts from when they were due).
      while (sent < total && started + (sent * 1000) / o.rate <= now) fire(started + (sent * 1000) / o.rate);
      if (sent < total) timer = setTimeout(tick, Math.max(0, started + (sent * 1000) / o.rate - performance.now()));
      else if (open === 0) finish();
    };
    // The whole run is bounded: stop waiting for stragglers after the timeout.
    setTimeout(
      () => {
        if (sent === total && open > 0) {
          errors += open;
          open = 0;
          finish();
        }
      },
      o.seconds * 1000 + timeoutMs + 1_000,
    ).unref();
    tick();
  });
}
