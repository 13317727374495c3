import { mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreBrokenError, WalBarrier } from '../src/store/wal-barrier.ts';
import { flushGate, until } from './support/flush-gate.ts';

/*
 * The durable barrier of the SQLite WAL (issue 17, group commit), on a real file with the flush
 * injected: each flush waits until the test finishes or fails it, so the test sees exactly
 * which requests one flush serves.
 */

/** A gate holding every flush, whose flush itself does nothing (the file is not a real WAL). */
function heldFlushes() {
  const gate = flushGate(async () => undefined);
  gate.hold = true;
  return { calls: gate.held, sync: gate.sync };
}

/** Tracks whether a promise settled, and how. */
function watch(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const w: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  p.then(
    () => {
      w.state = 'resolved';
    },
    (error: unknown) => {
      w.state = 'rejected';
      w.error = error;
    },
  );
  return w;
}

describe('WalBarrier', () => {
  let dir: string;
  let wal: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wal-barrier-'));
    wal = join(dir, 'db-wal');
    writeFileSync(wal, 'frames');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a request made while a flush is in flight starts a second at once; requests made while both are busy share the next; none resolves before its flush ends', async () => {
    const { calls, sync } = heldFlushes();
    const barrier = new WalBarrier(wal, sync);
    const first = watch(barrier.request());
    await until(() => calls.length === 1, 'the first flush');
    // Written after the first flush started: it cannot cover it, so a second slot flushes at once.
    const second = watch(barrier.request());
    await until(() => calls.length === 2, 'the second flush, without waiting for the first');
    expect(calls[1]?.fd).not.toBe(calls[0]?.fd);
    // Written while both slots are busy: they wait together for the next free slot.
    const later = Array.from({ length: 19 }, () => watch(barrier.request()));
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(2);
    expect([first.state, second.state]).toEqual(['pending', 'pending']);
    expect(barrier.stats.inFlight).toBe(2);

    calls[1]?.finish();
    await until(() => second.state === 'resolved', 'the second request');
    await until(() => calls.length === 3, 'the third flush, in the freed slot');
    expect(first.state).toBe('pending');
    expect(later.every((w) => w.state === 'pending')).toBe(true);

    expect(barrier.stats.inFlight).toBe(2);
    calls[0]?.finish();
    await until(() => first.state === 'resolved', 'the first request');
    expect(barrier.stats.inFlight).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(later.every((w) => w.state === 'pending')).toBe(true);
    expect(calls).toHaveLength(3);
    calls[2]?.finish();
    await until(() => later.every((w) => w.state === 'resolved'), 'the later requests');
    expect(barrier.stats).toEqual({ requests: 21, syncs: 3, inFlight: 0 });
    await barrier.close();
  });

  it('counts a flush in flight from its start, before the WAL is even open, to its end', async () => {
    let opened = false;
    let finish!: () => void;
    const barrier = new WalBarrier(wal, () => {
      opened = true;
      return new Promise<void>((r) => {
        finish = r;
      });
    });
    // A first flush opens the WAL and flushes its directory before it flushes the file: in
    // flight from the request on, not from the flush's own call.
    const req = barrier.request();
    expect(opened).toBe(false);
    expect(barrier.stats.inFlight).toBe(1);
    await until(() => opened, 'the flush of the file');
    finish();
    await req;
    expect(barrier.stats.inFlight).toBe(0);
    await barrier.close();
  });

  it('N concurrent requests cost at most three flushes; a lone request after them costs one more', async () => {
    let flushes = 0;
    const barrier = new WalBarrier(wal, async () => {
      flushes++;
    });
    await Promise.all(Array.from({ length: 100 }, () => barrier.request()));
    expect(flushes).toBeGreaterThanOrEqual(1);
    expect(flushes).toBeLessThanOrEqual(3);
    await barrier.request();
    expect(flushes).toBeLessThanOrEqual(4);
    expect(barrier.stats.requests).toBe(101);
    await barrier.close();
  });

  it('flushes the same descriptor while the file stays, and reopens it when the file was replaced', async () => {
    const { calls, sync } = heldFlushes();
    const barrier = new WalBarrier(wal, sync);
    const a = barrier.request();
    await until(() => calls.length === 1, 'flush 1');
    calls[0]?.finish();
    await a;
    const b = barrier.request();
    await until(() => calls.length === 2, 'flush 2');
    calls[1]?.finish();
    await b;
    expect(calls[1]?.fd).toBe(calls[0]?.fd);

    const oldInode = statSync(wal).ino;
    // The old file stays under another name, so the new one cannot reuse its inode number.
    renameSync(wal, join(dir, 'old-wal'));
    writeFileSync(wal, 'new frames');
    const newInode = statSync(wal).ino;
    expect(newInode).not.toBe(oldInode);
    const c = watch(barrier.request());
    // The path's inode is read beside the flush of the old descriptor; the new file is then
    // opened and flushed before the request resolves.
    await until(() => calls.length === 3, 'flush 3');
    expect(calls[2]?.inode).toBe(oldInode);
    calls[2]?.finish();
    await until(() => calls.length === 4, 'flush 4, of the new file');
    expect(calls[3]?.inode).toBe(newInode);
    expect(c.state).toBe('pending');
    calls[3]?.finish();
    await until(() => c.state === 'resolved', 'the request');
    await barrier.close();
  });

  it('a failed flush rejects every waiter with StoreBrokenError, breaks the barrier, and is never retried', async () => {
    const { calls, sync } = heldFlushes();
    const barrier = new WalBarrier(wal, sync);
    const first = watch(barrier.request());
    await until(() => calls.length === 1, 'the first flush');
    const queued = Array.from({ length: 5 }, () => watch(barrier.request()));
    // The first of them started a flush in the second slot; the others wait for a free slot.
    await until(() => calls.length === 2, 'the second flush');
    calls[0]?.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await until(() => first.state !== 'pending' && queued.slice(1).every((w) => w.state !== 'pending'), 'the waiters of the failed flush and the next');
    // The second slot's flush ends well after the failure: its success cannot be trusted (the
    // error may concern its pages and have been reported to the other descriptor only).
    expect(queued[0]?.state).toBe('pending');
    calls[1]?.finish();
    await until(() => queued[0]?.state !== 'pending', 'the second flush');
    for (const w of [first, ...queued]) {
      expect(w.state).toBe('rejected');
      expect(w.error).toBeInstanceOf(StoreBrokenError);
    }
    expect(barrier.broken).toBeInstanceOf(StoreBrokenError);
    expect((barrier.broken?.cause as { code?: string } | undefined)?.code).toBe('EIO');
    await expect(barrier.request()).rejects.toBeInstanceOf(StoreBrokenError);
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(2);
    await barrier.close();
  });

  it('a WAL file that vanished breaks the barrier (its commits may be lost)', async () => {
    const barrier = new WalBarrier(join(dir, 'missing-wal'), async () => undefined);
    await expect(barrier.request()).rejects.toBeInstanceOf(StoreBrokenError);
    expect(barrier.broken).toBeInstanceOf(StoreBrokenError);
    await barrier.close();
  });
});
