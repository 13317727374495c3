import http from 'node:http';
import https from 'node:https';
import { AppendedSince } from '../core/appended.ts';
import type { SandboxClock } from '../core/clock.ts';
import { isoWithOffset } from '../core/clock.ts';
import type { SandboxKeys } from '../core/keys.ts';
import { formatSignatureHeader, signBase64, signContent } from '../core/signature.ts';
import type { NotificationRecord, StateStore } from '../core/state.ts';
import type { FaultBook } from '../faults/faults.ts';

/**
 * Antom's notification retry schedule: the first delivery at once, then re-sends 2 min,
 * 10 min, 10 min, 1 h, 2 h, 6 h and 15 h after the previous attempt: 8 attempts in all.
 * Unlike Antom's own sandbox (which does not re-send) we re-send, so relays get tested.
 */
export const RETRY_INTERVALS_MS: readonly number[] = Object.freeze([
  0,
  2 * 60_000,
  10 * 60_000,
  10 * 60_000,
  3_600_000,
  2 * 3_600_000,
  6 * 3_600_000,
  15 * 3_600_000,
]);

/** Per-attempt HTTP timeout. */
const ATTEMPT_TIMEOUT_MS = 10_000;
/** A reorder fault that never fills its batch flushes after this long (real time) by default. */
const REORDER_FLUSH_MS = 2_000;
/** The most bytes of an answer kept: the ack is ~80 bytes, the attempt log keeps 200. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** An answer to one delivery: its status and body (at most MAX_ANSWER_BYTES of it). */
interface Answer {
  status: number;
  text: string;
}

/**
 * One POST with node:http(s) over kept-alive connections, as Antom's senders keep them: a
 * fetch() per notification cost the sandbox ~0.5 ms of CPU per pay (undici's request and web
 * streams, an AbortSignal) on the cores the relay shares in the bench and the tests (issue 17).
 * Redirects are not followed (an answer like any other, never the ack). Rejects on a network
 * error, on `timeoutMs` without the whole answer, and when its entry in `cancels` is called (stop).
 */
function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  agents: { http: http.Agent; https: https.Agent },
  timeoutMs: number,
  cancels: Set<() => void>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const payload = Buffer.from(body, 'utf8');
    const req = (secure ? https : http).request(url, {
      method: 'POST',
      agent: secure ? agents.https : agents.http,
      headers: { ...headers, 'content-length': String(payload.length) },
    });
    const cancel = (): void => {
      req.destroy(new Error('notification delivery stopped'));
    };
    cancels.add(cancel);
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const done = (err: Error | undefined, answer?: Answer): void => {
      clearTimeout(timer);
      cancels.delete(cancel);
      if (err) reject(err);
      else resolve(answer as Answer);
    };
    req.once('error', (err) => done(err));
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      res.once('error', (err) => done(err));
      res.once('end', () => done(undefined, { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.end(payload);
  });
}

/** True only for HTTP 200 with exactly Antom's fixed SUCCESS acknowledgement body. */
export function isExactAck(status: number, body: string): boolean {
  if (status !== 200) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return false;
  const keys = Object.keys(parsed);
  if (keys.length !== 1 || keys[0] !== 'result') return false;
  const result = (parsed as { result: unknown }).result;
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return false;
  const r = result as Record<string, unknown>;
  return Object.keys(r).length === 3 && r['resultCode'] === 'SUCCESS' && r['resultStatus'] === 'S' && r['resultMessage'] === 'success';
}

/** What the notifier needs. */
export interface NotifierDeps {
  store: StateStore;
  clock: SandboxClock;
  keys: SandboxKeys;
  clientId: string;
  timeScale: number;
  faults: FaultBook;
}

/** Sends signed notifications, retries them on Antom's schedule and applies notification faults. */
export class Notifier {
  readonly #d: NotifierDeps;
  #timer: NodeJS.Timeout | undefined;
  #inFlight = new Set<string>();
  #duplicates = new Set<string>();
  #reorder: { ids: string[]; size: number; timer: NodeJS.Timeout | undefined } | undefined;
  /** Cancels each delivery in flight (stop). */
  readonly #cancels = new Set<() => void>();
  /** Kept-alive connections to the notification URLs (their own pools, closed on stop). */
  readonly #agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  #stopped = false;
  /**
   * Notifications that may still be sent (PENDING, or HELD until released), in the order they
   * were recorded: `pump` looks at these, not at every notification ever recorded, so a pay's
   * cost does not grow with the sandbox's history (issue 17). Records are appended to the state
   * and only leave this set once final (DELIVERED, FAILED, NO_URL never change again); the set
   * reads whatever was appended since its last look, and starts over when the state is replaced.
   */
  readonly #live = new Set<NotificationRecord>();
  readonly #appended = new AppendedSince<NotificationRecord>();

  constructor(deps: NotifierDeps) {
    this.#d = deps;
  }

  /** Records a notification and schedules its first delivery (subject to notification faults). */
  enqueue(kind: NotificationRecord['kind'], url: string | undefined, payload: object): NotificationRecord {
    const { store, clock } = this.#d;
    const now = clock.now();
    const record: NotificationRecord = {
      id: `N${store.nextSeq()}`,
      kind,
      url,
      body: JSON.stringify(payload),
      createdAt: now,
      status: url ? 'PENDING' : 'NO_URL',
      nextAttemptAt: url ? now : undefined,
      attempts: [],
      rounds: 0,
    };
    store.state.notifications.push(record);
    if (url) this.#applyFault(record);
    store.save();
    this.pump();
    return record;
  }

  #applyFault(record: NotificationRecord): void {
    const fault = this.#d.faults.takeNotify();
    if (!fault) return;
    if (fault.mode === 'duplicate') this.#duplicates.add(record.id);
    else if (fault.mode === 'delay') record.nextAttemptAt = this.#d.clock.now() + (fault.delayMs ?? 1000);
    else if (fault.mode === 'withhold') {
      record.status = 'HELD';
      record.heldBy = 'withhold';
      record.nextAttemptAt = undefined;
    } else {
      record.status = 'HELD';
      record.heldBy = 'reorder';
      record.nextAttemptAt = undefined;
      if (!this.#reorder) {
        const timer = setTimeout(() => this.#flushReorder(), fault.delayMs ?? REORDER_FLUSH_MS);
        timer.unref();
        this.#reorder = { ids: [], size: fault.count, timer };
      }
      this.#reorder.ids.push(record.id);
      if (this.#reorder.ids.length >= this.#reorder.size || fault.remaining === 0) this.#flushReorder();
    }
  }

  /** Sends the reorder batch newest first, one after another. */
  #flushReorder(): void {
    const batch = this.#reorder;
    this.#reorder = undefined;
    if (!batch) return;
    if (batch.timer) clearTimeout(batch.timer);
    const records = batch.ids
      .map((id) => this.#find(id))
      .filter((n): n is NotificationRecord => n !== undefined && n.status === 'HELD')
      .reverse();
    for (const n of records) {
      n.status = 'PENDING';
      n.heldBy = undefined;
      this.#inFlight.add(n.id);
    }
    void (async () => {
      for (const n of records) {
        this.#inFlight.delete(n.id);
        await this.#attempt(n);
      }
      this.pump();
    })();
  }

  /** Sends every withheld (and reorder-buffered) notification now; returns how many. */
  release(): number {
    const held = this.#d.store.state.notifications.filter((n) => n.status === 'HELD' && n.heldBy === 'withhold');
    const now = this.#d.clock.now();
    for (const n of held) {
      n.status = 'PENDING';
      n.heldBy = undefined;
      n.nextAttemptAt = now;
    }
    const reordered = this.#reorder?.ids.length ?? 0;
    this.#flushReorder();
    this.#d.store.save();
    this.pump();
    return held.length + reordered;
  }

  /** Dispatches every due notification and arms the timer for the next one. */
  pump(): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = this.#d.clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const n of this.#liveRecords()) {
      if (n.status !== 'PENDING' && n.status !== 'HELD') {
        this.#live.delete(n);
        continue;
      }
      if (n.status !== 'PENDING' || n.nextAttemptAt === undefined || this.#inFlight.has(n.id)) continue;
      if (n.nextAttemptAt <= now) {
        this.#inFlight.add(n.id);
        void this.#attempt(n).finally(() => {
          this.#inFlight.delete(n.id);
          this.pump();
        });
      } else next = Math.min(next, n.nextAttemptAt);
    }
    if (next !== Number.POSITIVE_INFINITY) {
      this.#timer = setTimeout(() => this.pump(), Math.min(Math.max(0, next - now), 2_147_483_647));
      this.#timer.unref();
    }
  }

  async #attempt(n: NotificationRecord): Promise<void> {
    if (!n.url || this.#stopped) return;
    const copies = this.#duplicates.delete(n.id) ? 2 : 1;
    n.rounds += 1;
    let acknowledged = false;
    for (let i = 0; i < copies; i++) acknowledged = (await this.#send(n, n.url)) || acknowledged;
    if (this.#stopped) return;
    if (acknowledged) {
      n.status = 'DELIVERED';
      n.nextAttemptAt = undefined;
    } else {
      const done = n.rounds >= RETRY_INTERVALS_MS.length;
      const interval = RETRY_INTERVALS_MS[Math.min(n.rounds, RETRY_INTERVALS_MS.length - 1)] ?? 0;
      n.status = done ? 'FAILED' : 'PENDING';
      n.nextAttemptAt = done ? undefined : this.#d.clock.now() + Math.round(interval * this.#d.timeScale);
    }
    this.#d.store.save();
  }

  /** One signed POST; records the attempt; true when the exact ack came back. */
  async #send(n: NotificationRecord, url: string): Promise<boolean> {
    const { clock, clientId, keys } = this.#d;
    const at = clock.now();
    const requestTime = isoWithOffset(at);
    const target = new URL(url);
    const path = `${target.pathname}${target.search}`;
    const signature = signBase64(signContent('POST', path, clientId, requestTime, n.body), keys.privateKey);
    try {
      const res = await post(
        target,
        {
          'content-type': 'application/json; charset=UTF-8',
          'client-id': clientId,
          'request-time': requestTime,
          signature: formatSignatureHeader(signature),
        },
        n.body,
        this.#agents,
        ATTEMPT_TIMEOUT_MS,
        this.#cancels,
      );
      const acknowledged = isExactAck(res.status, res.text);
      n.attempts.push({ at, httpStatus: res.status, acknowledged, responseExcerpt: res.text.slice(0, 200) });
      return acknowledged;
    } catch (err) {
      n.attempts.push({ at, acknowledged: false, error: err instanceof Error ? err.message : String(err) });
      return false;
    }
  }

  #liveRecords(): Set<NotificationRecord> {
    this.#appended.read(
      this.#d.store.state.notifications,
      (n) => this.#live.add(n),
      () => this.#live.clear(),
    );
    return this.#live;
  }

  #find(id: string): NotificationRecord | undefined {
    return this.#d.store.state.notifications.find((n) => n.id === id);
  }

  /** Forgets in-memory fault bookkeeping (admin reset). */
  resetFaults(): void {
    this.#duplicates.clear();
    if (this.#reorder?.timer) clearTimeout(this.#reorder.timer);
    this.#reorder = undefined;
  }

  /** Stops timers and aborts deliveries in flight. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.resetFaults();
    for (const cancel of [...this.#cancels]) cancel();
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }
}
