import { describe, expect, it } from 'vitest';
import { KioskVisits, settle, startKioskVisits, type VisitRelay } from '../../../../main/services/kiosk-visits.ts';
import type { KioskVisitStore } from '../../../../main/services/ports.ts';
import { TransportError } from '../../../../main/services/ports.ts';
import { RelayError } from '../../../../main/services/relay/errors.ts';
import type { RelayBinding } from '@scan-to-bind/shared/relay-api';
import { FakeClock, flush } from '../../../fakes/fake-clock.ts';
import { MemoryLogger } from '../../../fakes/memory-stores.ts';

/** A visit file in memory that counts its writes and can fail them. */
class MemoryVisitStore implements KioskVisitStore {
  doc: unknown = null;
  writes = 0;
  failWrites = false;
  async load() {
    return this.doc === null ? null : structuredClone(this.doc);
  }
  async save(doc: Readonly<Record<string, unknown>>) {
    if (this.failWrites) throw new Error('EIO');
    this.writes++;
    this.doc = structuredClone(doc);
  }
}

/** A relay whose answers the test scripts, one per call (the last one repeats). */
class ScriptedRelay implements VisitRelay {
  readonly calls: string[] = [];
  script: Array<'ok' | 'down' | 503 | 404 | 400 | 409 | 'live'> = ['ok'];
  next(): ScriptedRelay['script'][number] | undefined {
    return this.script.length > 1 ? this.script.shift() : this.script[0];
  }
  #fail(answer: ScriptedRelay['script'][number] | undefined) {
    if (answer === 'down') throw new TransportError('refused');
    if (answer === 503) throw new RelayError('OVERLOADED', 503);
    if (answer === 404) throw new RelayError('BINDING_NOT_FOUND', 404);
    if (answer === 400) throw new RelayError('INVALID_INPUT', 400);
    if (answer === 409) throw new RelayError('KIOSK_VISIT_ENDED', 409);
  }
  async rotateVisit(visitId: string) {
    this.calls.push(`rotate ${visitId}`);
    this.#fail(this.next());
    return { visitId };
  }
  async revoke(bindingId: string): Promise<RelayBinding> {
    this.calls.push(`end ${bindingId}`);
    const answer = this.next();
    this.#fail(answer);
    return { bindingId, state: answer === 'live' ? 'ACTIVE' : 'REVOKED', wallet: 'ALIPAY_HK', version: 1, refreshesLeft: 0 };
  }
}

const ids = () => {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
};
const BINDING = 'b1b1b1b1-0000-4000-8000-000000000001';

async function setup(store = new MemoryVisitStore()) {
  const clock = new FakeClock();
  const relay = new ScriptedRelay();
  const log = new MemoryLogger();
  const deps = { store, relay, clock, log, newVisitId: ids(), backoff: { baseMs: 1_000, maxMs: 8_000 }, random: () => 1 };
  return { clock, relay, log, store, deps, visits: await KioskVisits.open(deps) };
}

describe('kiosk visit outbox', () => {
  it('a rotation is one durable write of the new id, the old binding’s end and the rotate call, before any relay call', async () => {
    const { visits, store, relay } = await setup();
    const first = visits.current();
    const next = await visits.rotate(BINDING);
    expect(next).not.toBe(first);
    expect(store.writes).toBe(1);
    expect(store.doc).toEqual({
      visitId: next,
      outbox: [
        { kind: 'end', bindingId: BINDING },
        { kind: 'rotate', visitId: next },
      ],
    });
    expect(relay.calls).toEqual([]);
  });

  it('retries with backoff while the relay is down or answers 503, until it confirms; then the file is empty', async () => {
    const { visits, store, relay, clock } = await setup();
    relay.script = ['down', 503, 'ok'];
    await visits.rotate(BINDING);
    visits.drain();
    await flush();
    expect(relay.calls).toEqual([`end ${BINDING}`]);
    await clock.advance(999);
    expect(relay.calls).toHaveLength(1); // first backoff: 1 s (random 1 = the ceiling)
    await clock.advance(1);
    expect(relay.calls).toHaveLength(2);
    await clock.advance(1_999);
    expect(relay.calls).toHaveLength(2); // second: 2 s
    await clock.advance(1);
    await visits.whenDrained();
    expect(relay.calls).toEqual([`end ${BINDING}`, `end ${BINDING}`, `end ${BINDING}`, `rotate ${visits.current()}`]);
    expect(store.doc).toEqual({ visitId: visits.current(), outbox: [] });
  });

  it('the backoff is capped', async () => {
    const { visits, relay, clock } = await setup();
    relay.script = ['down'];
    await visits.rotate(null);
    visits.drain();
    await flush();
    await clock.advance(1_000 + 2_000 + 4_000 + 8_000);
    expect(relay.calls).toHaveLength(5);
    await clock.advance(8_000);
    expect(relay.calls).toHaveLength(6); // 8 s, not 16 s
    visits.dispose();
    await clock.advance(60_000);
    expect(relay.calls).toHaveLength(6);
  });

  it('settles: an ended state or 404 confirms a revoke; a live state and 401/429/5xx retry; 400 drops', () => {
    const end = { kind: 'end', bindingId: BINDING } as const;
    const rotate = { kind: 'rotate', visitId: ids()() } as const;
    for (const state of ['REVOKED', 'FAILED', 'EXPIRED']) expect(settle(end, { state })).toBe('done');
    expect(settle(end, { state: 'ACTIVE' })).toBe('retry');
    expect(settle(end, new RelayError('BINDING_NOT_FOUND', 404))).toBe('done');
    expect(settle(rotate, { state: 'ROTATED' })).toBe('done');
    expect(settle(rotate, new RelayError('KIOSK_VISIT_ENDED', 409))).toBe('done');
    for (const [code, status] of [
      ['DEVICE_UNAUTHORIZED', 401],
      ['RATE_LIMITED', 429],
      ['OVERLOADED', 503],
      ['RELAY_UNAVAILABLE', null],
    ] as const) {
      expect(settle(end, new RelayError(code, status))).toBe('retry');
    }
    expect(settle(rotate, new RelayError('INVALID_INPUT', 400))).toBe('drop');
  });

  it('a newer rotation replaces an undelivered one and keeps the owed ends', async () => {
    const { visits, store } = await setup();
    await visits.rotate(BINDING);
    const last = await visits.rotate('b2b2b2b2-0000-4000-8000-000000000002');
    expect((store.doc as { outbox: unknown[] }).outbox).toEqual([
      { kind: 'end', bindingId: BINDING },
      { kind: 'end', bindingId: 'b2b2b2b2-0000-4000-8000-000000000002' },
      { kind: 'rotate', visitId: last },
    ]);
  });

  it('survives a restart: a new instance over the same file sends what is owed; a start is a new visit', async () => {
    const store = new MemoryVisitStore();
    const first = await setup(store);
    first.relay.script = ['down'];
    await first.visits.rotate(BINDING);
    const owed = first.visits.current();
    first.visits.dispose();

    const { deps, relay } = await setup(store);
    let forgotten = 0;
    const visits = await startKioskVisits(deps, { forgetVisit: async () => forgotten++ });
    expect(forgotten).toBe(1);
    expect(visits.current()).not.toBe(owed);
    await visits.whenDrained();
    expect(relay.calls).toEqual([`end ${BINDING}`, `rotate ${visits.current()}`]);
  });

  it('a damaged file starts a fresh visit; a failed write is logged and the new visit taken anyway', async () => {
    const store = new MemoryVisitStore();
    store.doc = { visitId: 'nope', outbox: 'x' };
    const { visits, log } = await setup(store);
    expect(visits.current()).toMatch(/^[0-9a-f-]{36}$/);
    store.failWrites = true;
    const next = await visits.rotate(BINDING);
    expect(visits.current()).toBe(next);
    expect(log.lines.some((l) => l.level === 'error' && l.message === 'kiosk visit file not written')).toBe(true);
    expect(log.lines.some((l) => l.message.includes('invalid'))).toBe(true);
  });

  it('drops a call the relay refuses for good (logged) and goes on', async () => {
    const { visits, relay, log } = await setup();
    relay.script = [400, 'ok'];
    await visits.rotate(BINDING);
    visits.drain();
    await visits.whenDrained();
    expect(relay.calls).toEqual([`end ${BINDING}`, `rotate ${visits.current()}`]);
    expect(log.lines.some((l) => l.level === 'error' && l.message.includes('dropped'))).toBe(true);
  });

  it('takes a fresh visit id when the relay says the current one was used before', async () => {
    const { visits, relay } = await setup();
    relay.script = [409, 'ok'];
    const taken = await visits.rotate(null);
    visits.drain();
    await visits.whenDrained();
    expect(visits.current()).not.toBe(taken);
    expect(relay.calls).toEqual([`rotate ${taken}`, `rotate ${visits.current()}`]);
  });
});
