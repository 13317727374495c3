import { DomainError } from '@scan-to-bind/shared/domain';
import { RELAY_EVENTS, type RelayEventName } from '@scan-to-bind/shared/relay-api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RelayBindingService } from '../bindings/binding-service.ts';
import type { Clock } from '../clock.ts';
import type { Caller } from '../devices/device-service.ts';
import type { EventHub, StatusEvent } from '../events.ts';
import type { EndReason, HeldRegistry } from '../ops/streams.ts';
import type { RelayPurchaseService } from '../payments/purchase-service.ts';
import { releaseAdmission } from './ops-routes.ts';
import { answerFor, checkAnswer } from './response-contract.ts';
import { callerOf } from './device-auth.ts';

/** What the held connections (long-poll, event stream) need. */
export interface HeldDeps {
  hub: EventHub;
  registry: HeldRegistry;
  bindings: RelayBindingService;
  purchases: RelayPurchaseService;
  clock: Clock;
  longPollTimeoutMs: number;
  /** A stream ends after this long (less up to a tenth, so streams opened together do not all reconnect together). */
  streamMaxLifetimeMs: number;
  /** The SSE comment ping. */
  heartbeatMs: number;
  /** An answer or event outside its schema is an error, not a warning (response-contract.ts; tests). */
  strictResponses?: boolean;
}

/**
 * The waiting part of `GET /v1/bindings/:id?waitForChange=N`, once the version is known to be
 * unchanged. It holds a long-poll slot of the device (HeldRegistry), not an admission slot.
 * Answers the status at the next change, at the timeout, or at once when the relay ends it
 * (`replaced` by a newer long-poll of the device, `shutdown`): the current status, 200. A
 * disabled device gets DEVICE_NOT_ENROLLED. Over the global cap: 503 OVERLOADED.
 */
export async function waitForBindingChange(req: FastifyRequest, reply: FastifyReply, deps: HeldDeps, caller: Caller, id: string): Promise<unknown> {
  const stop = new AbortController();
  let ended: EndReason | undefined;
  const lease = deps.registry.open('longPoll', caller.deviceId, (reason) => {
    ended = reason;
    stop.abort();
  });
  releaseAdmission(req);
  req.raw.once('close', () => stop.abort());
  try {
    await deps.hub.waitFor('binding', id, deps.longPollTimeoutMs, stop.signal);
  } finally {
    lease.release();
  }
  if (ended === 'disabled') throw new DomainError('DEVICE_NOT_ENROLLED', 'device disabled');
  if (stop.signal.aborted && ended === undefined) return reply; // the client went away
  return deps.bindings.status(caller, id);
}

/**
 * `GET /v1/events`: the Server-Sent Events stream of the caller's owner. It holds a stream slot
 * of the device (at most `maxStreamsPerDevice`; a newer one ends the oldest), and ends with
 * `event: end` + `data: {"reason": …}` when the relay ends it: at its maximum lifetime, at the
 * player assertion's `exp`, when the device is disabled, when replaced, at shutdown. The client
 * then opens a new one with a new signed request, so a stream never outlives the credentials it
 * was opened with by more than the lifetime.
 */
export async function openEventStream(req: FastifyRequest, reply: FastifyReply, deps: HeldDeps): Promise<void> {
  const caller = callerOf(req);
  const expiresAt = caller.player?.expiresAt;
  const now = deps.clock.now();
  // Accepted within the verifier's clock skew, but a stream that would end at once is not opened.
  if (expiresAt !== undefined && expiresAt <= now) throw new DomainError('PLAYER_UNAUTHORIZED', 'player assertion expired');
  const res = reply.raw;
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe = (): void => {};
  const cleanup = (): void => {
    lease.release();
    for (const t of timers) clearTimeout(t);
    unsubscribe();
  };
  // Every event's data goes through its schema (shared/relay-api RELAY_EVENTS) the way answers
  // do (response-contract.ts); one that does not match is logged and not sent (the client would
  // refuse it, and re-reads its state on the next connection).
  const write = (name: RelayEventName, data: unknown): void => {
    const answer = answerFor(checkAnswer(RELAY_EVENTS[name], data), deps.strictResponses ?? false, req.log, { event: name });
    if (answer.ok && !res.writableEnded) res.write(`event: ${name}\ndata: ${JSON.stringify(answer.value)}\n\n`);
  };
  const end = (reason: EndReason): void => {
    cleanup();
    if (res.writableEnded) return;
    write('end', { reason });
    res.end();
  };
  // Before the hijack: a refusal at the global cap is an ordinary typed 503.
  const lease = deps.registry.open('stream', caller.deviceId, end);
  reply.hijack();
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  const send = (event: Pick<StatusEvent, 'kind' | 'status'>): void => write(event.kind, event.status);
  res.write(': connected\n\n');
  unsubscribe = deps.hub.onOwner(caller.owner, send);
  timers.push(setInterval(() => res.write(': ping\n\n'), deps.heartbeatMs));
  const lifetime = Math.round(deps.streamMaxLifetimeMs * (0.9 + 0.1 * Math.random()));
  const untilExpiry = expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt - now;
  timers.push(setTimeout(() => end(untilExpiry < lifetime ? 'assertion-expired' : 'lifetime'), Math.min(lifetime, untilExpiry)));
  req.raw.once('close', cleanup);
  try {
    // Start with the current picture so a reconnecting client misses nothing.
    try {
      send({ kind: 'binding', status: { ...(await deps.bindings.current(caller)) } });
    } catch {
      // no binding yet
    }
    for (const p of await deps.purchases.list(caller, true)) send({ kind: 'purchase', status: { ...p } });
  } finally {
    // From here the stream only waits: its admission slot goes back (its stream slot stays).
    releaseAdmission(req);
  }
}
