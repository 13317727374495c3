import { randomUUID } from 'node:crypto';
import { isErrorCode } from '@scan-to-bind/shared/domain';
import { TestDevice } from '../../relay/test/support/client.ts';
import type { Row, RowContext } from '../matrix.ts';
import type { ChaosStack } from '../stack.ts';
import { bindWallet } from './helpers.ts';

/** One answer of the relay as the load generator saw it. */
export interface LoadAnswer {
  status: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
}

/** A signed pay sent with fetch, keeping the Retry-After header. */
export async function payWithHeaders(device: TestDevice, bindingId: string, intentId: string, signal?: AbortSignal): Promise<LoadAnswer> {
  const body = JSON.stringify({ bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intentId });
  const res = await fetch(`${device.baseUrl}/v1/purchases`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...device.sign('POST', '/v1/purchases', body) },
    body,
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { unparsable: text.slice(0, 100) };
  }
  return { status: res.status, body: parsed, retryAfter: res.headers.get('retry-after') };
}

/**
 * Why an answer is not a defined one, or undefined when it is: 200 with a purchase state, a
 * typed 4xx, 429/503 with a typed body and a Retry-After; never another 5xx.
 */
export function undefinedAnswer(a: LoadAnswer, allow5xx: number[] = []): string | undefined {
  const code = (a.body['error'] as { code?: unknown } | undefined)?.code;
  if (a.status === 200) return typeof a.body['state'] === 'string' ? undefined : `200 without a state ${JSON.stringify(a.body).slice(0, 80)}`;
  if (a.status === 429 || a.status === 503)
    return isErrorCode(code) && a.retryAfter && Number(a.retryAfter) > 0 ? undefined : `${a.status} code=${String(code)} retry-after=${a.retryAfter}`;
  if (a.status >= 400 && a.status < 500) return isErrorCode(code) ? undefined : `${a.status} untyped ${JSON.stringify(a.body).slice(0, 80)}`;
  if (allow5xx.includes(a.status) && isErrorCode(code)) return undefined;
  return `${a.status} ${JSON.stringify(a.body).slice(0, 80)}`;
}

/** Enrols and binds `n` extra kiosks on the stack (each with its own binding). */
export async function extraDevices(stack: ChaosStack, n: number): Promise<Array<{ device: TestDevice; bindingId: string }>> {
  const out: Array<{ device: TestDevice; bindingId: string }> = [];
  for (let i = 0; i < n; i++) {
    const creds = await stack.enrolDevice('kiosk');
    const device = new TestDevice(stack.relay.url, creds, undefined, () => stack.clock.now());
    out.push({ device, bindingId: await bindWallet(device) });
  }
  return out;
}

/**
 * Sends `total` pays through `concurrency` workers (so at most that many sockets), stopping new
 * sends at `capMs`. One pay in five repeats an earlier intent of its device (a retry). Every
 * answer is a client call of the row (invariant 5); answers that are not defined are returned.
 */
export async function payLoad(
  ctx: RowContext,
  devices: Array<{ device: TestDevice; bindingId: string }>,
  options: { total: number; concurrency: number; capMs: number; deadlineMs?: number; allow5xx?: number[]; onAnswer?: (a: LoadAnswer) => void },
): Promise<{ sent: number; statuses: Map<number, number>; msByStatus: Map<number, number>; bad: string[] }> {
  const statuses = new Map<number, number>();
  const msByStatus = new Map<number, number>();
  const bad: string[] = [];
  const intents = devices.map(() => [] as string[]);
  const stopAt = Date.now() + options.capMs;
  let next = 0;
  const worker = async () => {
    while (next < options.total && Date.now() < stopAt) {
      const i = next++;
      const d = i % devices.length;
      const { device, bindingId } = devices[d] as { device: TestDevice; bindingId: string };
      const mine = intents[d] as string[];
      const intent = i % 5 === 4 && mine.length > 0 ? (mine[i % mine.length] as string) : randomUUID();
      if (!mine.includes(intent) && mine.length < 50) mine.push(intent);
      const t0 = Date.now();
      const answer = await ctx.calls.call('load pay', options.deadlineMs ?? 30_000, () =>
        payWithHeaders(device, bindingId, intent, AbortSignal.timeout(options.deadlineMs ?? 30_000)).catch((e: Error) => {
          // A refused or reset socket is not a defined answer: record it as such.
          bad.push(`network: ${e.message}`);
          throw e;
        }),
      );
      if (!answer) continue;
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      msByStatus.set(answer.status, (msByStatus.get(answer.status) ?? 0) + Date.now() - t0);
      options.onAnswer?.(answer);
      const why = undefinedAnswer(answer, options.allow5xx);
      if (why) bad.push(why);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { sent: next, statuses, msByStatus, bad };
}

export const loadRows: Row[] = [
  {
    name: 'load 10,000 concurrent pays',
    family: 'load',
    // The production limits of the pay path (per-device bucket, admission control) rather than the
    // tests' lifted ones. The setup enrols its 16 devices from one address, which the enrolment
    // throttle (its own row, 'enrol brute force') would refuse: that one stays lifted here.
    stack: {
      overrides: { limits: { perDevicePerMinute: 60, perDeviceBurst: 10, maxInFlight: 24, shutdownGraceMs: 5_000, enrollPerMinute: 1_000, enrollBurst: 100 } },
    },
    async run(ctx) {
      const total = ctx.short ? 1_000 : 10_000;
      const devices = await extraDevices(ctx.stack, ctx.short ? 4 : 16);
      const started = Date.now();
      const r = await payLoad(ctx, devices, { total, concurrency: 96, capMs: ctx.short ? 10_000 : 45_000 });
      const ms = Date.now() - started;
      const summary = [...r.statuses]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}×${n} (mean ${Math.round((r.msByStatus.get(s) ?? 0) / n)} ms)`)
        .join(' ');
      console.log(`     load: ${r.sent}/${total} pays in ${(ms / 1000).toFixed(1)} s over ${devices.length} devices: ${summary}`);
      // The cap bounds the row on a busy 2-core box; a relay that stalls (a tenth of the pays in the cap) fails it.
      ctx.expect(r.sent >= total / 10, `only ${r.sent}/${total} pays answered within the cap: the relay stalled`);
      ctx.expect(r.bad.length === 0, `${r.bad.length} undefined answers, e.g. ${r.bad.slice(0, 3).join(' || ')}`);
      ctx.expect((r.statuses.get(200) ?? 0) > 0, `no pay succeeded: ${summary}`);
      const health = await fetch(`${ctx.stack.relay.url}/healthz`)
        .then((x) => x.status)
        .catch(() => 0);
      ctx.expect(health === 200, `relay not healthy after the load: ${health}`);
    },
  },
];
