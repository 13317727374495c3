import { randomUUID } from 'node:crypto';
import { TestDevice } from '../relay/test/support/client.ts';
import { type HeldStream, holdStream } from '../relay/test/support/streams.ts';
import { load } from './load.ts';
import { paced } from './paced.ts';
import { type BenchStack, cpuSeconds, type Device, signed, startBenchStack, type Usage } from './stack.ts';
import { percentile, summarise } from './stats.ts';
import { goalRow, type Row } from './table.ts';

const QUICK = process.env['BENCH_QUICK'] === '1';
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
/** Seconds of load per run. */
const SECONDS = QUICK ? 2 : 5;
const PAYMENT_DELAY_MS = 20;
/** Relay processes measured: 1, 2, 3 on one database. */
const COUNTS = [1, 2, 3] as const;
/** Warm-up: #1's closed-loop connections, split evenly over the relays. */
const CONNECTIONS = 48;
/**
 * Pays per second offered to each relay under load, whatever their number (open loop, evenly
 * spaced: paced.ts). Three relays at this rate, with the sandbox, PostgreSQL and the generator,
 * stay below what the 2 cores serve (~60 pay/s in all on 2026-12-06), so no run saturates the machine.
 */
const RATE_PER_RELAY = Number(process.env['BENCH_SCALE_RATE'] ?? 15);
/**
 * The relays' event-loop lag gate, at the highest the config takes: its sampler runs (a cost every
 * process pays), but it refuses nothing. At the default, the 2 cores shared by three relays and
 * everything else made it refuse a third of the pays in some 3-relay runs and few in 1-relay
 * runs, so the relays did different work and the refusals' CPU was charged to fewer pays.
 * Admission under overload is #3's figure, not this one.
 */
const LAG_GATE_MS = 10_000;
/** Pays sent through relay A per latency run, and their pace. */
const PUSH_PAYS = QUICK ? 30 : 60;
const PUSH_INTERVAL_MS = 50;

/** Each purchase status event of a held stream: intent, version, arrival (`performance.now()`). */
function purchaseArrivals(stream: HeldStream): { intent: string; version: number; at: number }[] {
  return stream.events
    .filter((e) => e.event === 'purchase')
    .map((e) => {
      const status = JSON.parse(e.data) as { purchaseIntentId: string; version: number };
      return { intent: status.purchaseIntentId, version: status.version, at: e.at };
    });
}

/** Sends one signed pay of `intent` to `url`; resolves with its HTTP status. */
async function pay(url: string, d: Device, intent: string): Promise<number> {
  const body = JSON.stringify({ bindingId: d.bindingId, sku: 'bench-1', quantity: 1, purchaseIntentId: intent });
  const res = await fetch(`${url}/v1/purchases`, { method: 'POST', headers: signed(d, 'POST', '/v1/purchases', body), body });
  await res.text();
  return res.status;
}

/**
 * #9 horizontal scale on one PostgreSQL (issue 17): pays per relay CPU-second with 1, 2 and 3
 * relay processes, and the latency of a change made on relay A reaching a stream on relay B
 * (LISTEN/NOTIFY, relay/README.md "Push").
 *
 * Each relay under load is offered the same rate, `RATE_PER_RELAY`, whatever their number: adding
 * a process is measured as a fleet serving more load, each process as busy as the one before.
 * The first version split one closed-loop load (48 connections) over the n relays, so one relay
 * ran the 2 cores flat out and three ran at a third of that each; CPU per pay then mixed what
 * crossing processes costs with how busy each process was (fewer requests per event-loop turn,
 * the 2 cores oversubscribed by three relays, the sandbox, PostgreSQL and the generator).
 */
export async function scaleFigures(): Promise<Row[]> {
  const stack = await startBenchStack({
    engine: 'postgres',
    paymentDelayMs: PAYMENT_DELAY_MS,
    devices: 8,
    limits: 'bench',
    relays: 3,
    maxEventLoopLagMs: LAG_GATE_MS,
  });
  // The reference: one relay alone, on its own database, with LISTEN/NOTIFY off (what a pay
  // cost before changes crossed processes by notification).
  const alone = await startBenchStack({
    engine: 'postgres',
    paymentDelayMs: PAYMENT_DELAY_MS,
    devices: 8,
    limits: 'bench',
    maxEventLoopLagMs: LAG_GATE_MS,
    events: { crossProcessListen: false },
  }).catch(async (err: unknown) => {
    await stack.close();
    throw err;
  });
  // No forced GC in the readings: each relay collects its garbage as it goes, as in production.
  const usages = (s: BenchStack): Promise<Usage[]> => Promise.all(s.relays.map((r) => r.call<Usage>('usage', { gc: false })));
  const rows: Row[] = [];
  try {
    // The fixed cost of a relay process, whatever the load (worker ticks, timers): CPU of the
    // three relays at rest over one run's length, per relay.
    const rest0 = await usages(stack);
    await new Promise((x) => setTimeout(x, SECONDS * 1000));
    const rest1 = await usages(stack);
    const fixed = rest1.reduce((a, u, i) => a + cpuSeconds(rest0[i] as Usage, u), 0) / rest1.length;
    // Warm-up of every relay (JIT, pools, caches): not counted.
    await Promise.all(
      [...stack.relayUrls, alone.relayUrl].map((url) =>
        load({ url, devices: url === alone.relayUrl ? alone.devices : stack.devices, kind: 'pay', connections: CONNECTIONS / 3, duration: QUICK ? 1 : 2 }),
      ),
    );
    const offRates: number[] = [];

    // Pays per relay CPU-second with n relays under load. The rounds interleave 1, 2, 3 so that
    // the machine's noise reaches each alike; each round's n-relay figure is also taken relative
    // to the same round's 1-relay figure.
    const perCpu: Record<number, number[]> = { 1: [], 2: [], 3: [] };
    /** Share of the offered pays answered 200 (the rest refused by the relays' admission control, or failed). */
    const answered: Record<number, number[]> = { 1: [], 2: [], 3: [] };
    const relative: Record<number, number[]> = { 1: [], 2: [], 3: [] };
    const idleCpu: Record<number, number[]> = { 1: [], 2: [], 3: [] };
    const counted: Record<number, number[]> = { 1: [], 2: [], 3: [] };
    for (let r = 0; r < RUNS; r++) {
      {
        const before = await usages(alone);
        const res = await paced({ url: alone.relayUrl, devices: alone.devices, rate: RATE_PER_RELAY, seconds: SECONDS, warmSockets: 4 });
        const after = await usages(alone);
        offRates.push((res.byStatus[200] ?? 0) / cpuSeconds(before[0] as Usage, after[0] as Usage));
      }
      let one = Number.NaN;
      for (const n of COUNTS) {
        const urls = stack.relayUrls.slice(0, n);
        const before = await usages(stack);
        const results = await Promise.all(urls.map((url) => paced({ url, devices: stack.devices, rate: RATE_PER_RELAY, seconds: SECONDS, warmSockets: 4 })));
        const after = await usages(stack);
        const done = results.reduce((a, x) => a + (x.byStatus[200] ?? 0), 0);
        const odd = results.filter((x) => Object.keys(x.byStatus).some((k) => k !== '200') || x.errors);
        if (odd.length)
          console.log(`  #9 ${n} relay(s) run ${r + 1}: ${odd.map((x) => `statuses ${JSON.stringify(x.byStatus)}, errors ${x.errors}`).join('; ')}`);
        const cpu = after.slice(0, n).reduce((a, u, i) => a + cpuSeconds(before[i] as Usage, u), 0);
        const idle = after.slice(n).reduce((a, u, i) => a + cpuSeconds(before[n + i] as Usage, u), 0);
        const rate = done / cpu;
        if (n === 1) one = rate;
        perCpu[n]?.push(rate);
        relative[n]?.push(rate / one);
        answered[n]?.push(done / (n * Math.max(1, Math.round(RATE_PER_RELAY * SECONDS))));
        idleCpu[n]?.push(idle);
        counted[n]?.push(cpu);
      }
    }
    const base = summarise(perCpu[1] as number[]);
    const off = summarise(offRates);
    rows.push({
      id: '9',
      figure: 'pays per relay CPU-second, 1 relay process, LISTEN/NOTIFY off (PostgreSQL)',
      unit: 'pay/s/core',
      summary: off,
      goal: 'reference: the cost of announcing changes',
      note: `1 relay with LISTEN/NOTIFY on: ${Math.round(base.median)} (${Math.round((base.median / off.median) * 100)} % of this); a stack of its own, runs interleaved with the rows below`,
    });
    for (const n of COUNTS) {
      const pc = summarise(perCpu[n] as number[]);
      const rel = summarise(relative[n] as number[]).median;
      const ok = summarise(answered[n] as number[]).median;
      const idle = summarise(idleCpu[n] as number[]).median;
      const share = (n * fixed) / summarise(counted[n] as number[]).median;
      rows.push({
        id: '9',
        figure: `pays per relay CPU-second, ${n} relay process${n > 1 ? 'es' : ''} on one PostgreSQL`,
        unit: 'pay/s/core',
        summary: pc,
        ...(n > 1 ? { peer: base.median, peerName: '1 relay', ratio: rel, goal: '≥ 90 % of 1 relay', met: rel >= 0.9 } : { goal: 'reference for 2 and 3' }),
        note: `${RATE_PER_RELAY} pay/s offered to each of ${n} relay(s) (open loop), ${Math.round(ok * 100)} % of them answered 200${n > 1 ? `; ratio = median of each round's n-relay / 1-relay` : ''}${n < 3 ? `; the ${3 - n} idle relay(s) used ${idle.toFixed(2)} CPU-s per run, not counted` : ''}; fixed cost of ${n} relay(s) at rest: ${(n * fixed).toFixed(2)} CPU-s per run, ${Math.round(share * 100)} % of the CPU counted`,
      });
      console.log(
        `  #9 ${n} relay(s): ${Math.round(pc.median)} pay/s per relay CPU-second (${Math.round(rel * 100)} % of 1), ${Math.round(ok * 100)} % of the offered pays answered 200`,
      );
    }

    // Cross-relay push: a device streams from relay A and from relay B; pays go through A. For
    // each purchase status event the latency is its arrival on B's stream minus its arrival on
    // A's (A pushes its own change at once after the commit): the time to cross processes.
    const device = stack.devices[0] as Device;
    const [urlA, urlB] = stack.relayUrls as [string, string];
    const p50s: number[] = [];
    const p99s: number[] = [];
    let missing = 0;
    let measured = 0;
    for (let r = 0; r < RUNS; r++) {
      const onA = await holdStream(new TestDevice(urlA, device));
      const onB = await holdStream(new TestDevice(urlB, device));
      if (onA.status !== 200 || onB.status !== 200) throw new Error(`event streams: ${onA.status} / ${onB.status}`);
      try {
        await new Promise((x) => setTimeout(x, 200));
        const sent: Promise<number>[] = [];
        const intents = new Set<string>();
        for (let i = 0; i < PUSH_PAYS; i++) {
          const intent = randomUUID();
          intents.add(intent);
          sent.push(pay(urlA, device, intent));
          await new Promise((x) => setTimeout(x, PUSH_INTERVAL_MS));
        }
        const statuses = await Promise.all(sent);
        if (statuses.some((x) => x !== 200)) console.log(`  #9 push run ${r + 1}: pay statuses ${JSON.stringify(statuses.filter((x) => x !== 200))}`);
        await new Promise((x) => setTimeout(x, 1_000));
        // A change has reached B when B shows that version or a later one of the purchase (B
        // reads the row when told, so two quick changes may arrive as the later one only). Only
        // this run's pays count: a purchase of the load runs may show in A's opening snapshot
        // and have settled before B's stream opened.
        const deltas: number[] = [];
        const onBoth = purchaseArrivals(onB);
        for (const a of purchaseArrivals(onA).filter((x) => intents.has(x.intent))) {
          const there = onBoth.filter((b) => b.intent === a.intent && b.version >= a.version).map((b) => b.at);
          if (there.length === 0) missing++;
          else deltas.push(Math.min(...there) - a.at);
        }
        measured += deltas.length;
        if (deltas.length) {
          p50s.push(percentile(deltas, 50));
          p99s.push(percentile(deltas, 99));
        }
      } finally {
        onA.close();
        onB.close();
      }
    }
    const p50 = p50s.length ? summarise(p50s) : summarise([Number.NaN]);
    const p99 = p99s.length ? summarise(p99s) : summarise([Number.NaN]);
    const note = `${measured} purchase events seen on both streams, ${missing} seen on A and never on B (nor a later version); ${PUSH_PAYS} pays through A per run, one every ${PUSH_INTERVAL_MS} ms; B's arrival minus A's`;
    rows.push({ id: '9', figure: 'cross-relay push p50 (change on relay A → stream on relay B)', unit: 'ms', summary: p50, goal: 'reference', note });
    rows.push(
      goalRow({
        id: '9',
        figure: 'cross-relay push p99 (change on relay A → stream on relay B)',
        unit: 'ms',
        summary: p99,
        limit: 50,
        goal: 'p99 ≤ 50 ms',
        met: p99.median <= 50 && missing === 0,
        note,
      }),
    );
    console.log(`  #9 cross-relay push: p50 ${p50.median.toFixed(2)} ms, p99 ${p99.median.toFixed(2)} ms (${missing} missing)`);
  } finally {
    await stack.close();
    await alone.close();
  }
  return rows;
}
