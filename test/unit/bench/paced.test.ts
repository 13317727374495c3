import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { latencyByDue, paced } from '../../../bench/paced.ts';
import { opsPerCpuSecond, percentile } from '../../../bench/stats.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
});

/** A stand-in relay: records arrival times, answers after `delayMs`. */
async function stub(delayMs: number): Promise<{ url: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  server = createServer((req, res) => {
    if (req.method === 'POST') arrivals.push(performance.now());
    req.resume();
    req.on('end', () => setTimeout(() => res.end('{}'), delayMs));
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals };
}

const devices = [{ deviceId: '00000000-0000-4000-8000-000000000000', deviceSecret: 'c2VjcmV0', bindingId: 'b' }];

describe('paced load (bench #2, #3)', () => {
  it('spreads requests evenly at the rate instead of one burst per second', async () => {
    const { url, arrivals } = await stub(0);
    const res = await paced({ url, devices, rate: 100, seconds: 1 });
    expect(res.byStatus[200]).toBe(100);
    const gaps = arrivals.slice(1).map((t, i) => t - (arrivals[i] as number));
    gaps.sort((a, b) => a - b);
    // autocannon's overallRate would send these 100 within a few ms of each other.
    expect(gaps[Math.floor(gaps.length / 2)]).toBeGreaterThan(5);
    expect((arrivals.at(-1) as number) - (arrivals[0] as number)).toBeGreaterThan(900);
  });

  it('is open loop: slow answers do not slow the sending, and latency counts from the due time', async () => {
    const { url, arrivals } = await stub(300);
    const res = await paced({ url, devices, rate: 50, seconds: 1 });
    expect(res.byStatus[200]).toBe(50);
    // 50 sent over ~1 s although each answer takes 300 ms (a closed loop of 1 would send 4).
    expect((arrivals.at(-1) as number) - (arrivals[0] as number)).toBeLessThan(1_300);
    for (const ms of res.latencyByStatus[200] ?? []) expect(ms).toBeGreaterThanOrEqual(299);
  });

  it('records when each answered request was due, so a run’s first moments can be told from the rest', async () => {
    // Slow (200 ms) for the requests arriving in the first 500 ms of the run, fast after (the split
    // below is at 250 ms: a margin for a late client on a loaded machine).
    let first: number | undefined;
    server = createServer((req, res) => {
      first ??= performance.now();
      const slow = performance.now() - first < 500;
      req.resume();
      req.on('end', () => setTimeout(() => res.end('{}'), slow ? 200 : 0));
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const res = await paced({ url, devices, rate: 50, seconds: 1, warmSockets: 0 });
    expect(res.dueByStatus[200]?.length).toBe(50);
    // Due times are the schedule: i / rate after the start.
    expect([...(res.dueByStatus[200] ?? [])].sort((a, b) => a - b).map((d) => Math.round(d))).toEqual(Array.from({ length: 50 }, (_, i) => i * 20));
    const { early, late } = latencyByDue(res, [200], 250);
    expect(early.length + late.length).toBe(50);
    expect(Math.min(...early)).toBeGreaterThanOrEqual(199);
    expect(percentile(late, 50)).toBeLessThan(100);
  });
});

describe('per-CPU-second rate', () => {
  it('counts operations per CPU-second of this thread', () => {
    let n = 0;
    const rate = opsPerCpuSecond(() => {
      for (let i = 0; i < 20_000; i++) n += i;
    }, 50);
    expect(rate).toBeGreaterThan(10);
    expect(Number.isFinite(rate)).toBe(true);
    expect(n).toBeGreaterThan(0);
  });
});
