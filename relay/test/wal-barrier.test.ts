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

  it('requests made while a flush is in flight share the next flush, and none resolves before its flush ends', async () => {
    const { calls, sync } = heldFlushes();
    const barrier = new WalBarrier(wal, sync);
    const first = watch(barrier.request());
    await until(() => calls.length === 1, 'the first flush');
    // Written after the first flush started: it cannot cover them.
    const later = Array.from({ length: 20 }, () => watch(barrier.request()));
    await new Promise((r) => setImmediate(r));
    expect(first.state).toBe('pending');
    expect(calls).toHaveLength(1);

    calls[0]?.finish();
    await until(() => first.state === 'resolved', 'the first request');
    expect(later.map((w) => w.state)).toEqual(later.map(() => 'pending'));

    await until(() => calls.length === 2, 'the second flush');
    await new Promise((r) => setImmediate(r));
    expect(later.every((w) => w.state === 'pending')).toBe(true);
    calls[1]?.finish();
    await until(() => later.every((w) => w.state === 'resolved'), 'the later requests');
    expect(calls).toHaveLength(2);
    expect(barrier.stats).toEqual({ requests: 21, syncs: 2 });
    await barrier.close();
  });

  it('N concurrent requests cost at most two flushes; a lone request after them costs one more', async () => {
    let flushes = 0;
    const barrier = new WalBarrier(wal, async () => {
      flushes++;
    });
    await Promise.all(Array.from({ length: 100 }, () => barrier.request()));
    expect(flushes).toBeGreaterThanOrEqual(1);
    expect(flushes).toBeLessThanOrEqual(2);
    await barrier.request();
    expect(flushes).toBeLessThanOrEqual(3);
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
    const c = barrier.request();
    await until(() => calls.length === 3, 'flush 3');
    expect(calls[2]?.inode).toBe(newInode);
    calls[2]?.finish();
    await c;
    await barrier.close();
  });

  it('a failed flush rejects every waiter with StoreBrokenError, breaks the barrier, and is never retried', async () => {
    const { calls, sync } = heldFlushes();
    const barrier = new WalBarrier(wal, sync);
    const first = watch(barrier.request());
    await until(() => calls.length === 1, 'the first flush');
    const queued = Array.from({ length: 5 }, () => watch(barrier.request()));
    calls[0]?.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await until(() => first.state !== 'pending' && queued.every((w) => w.state !== 'pending'), 'every waiter settled');
    for (const w of [first, ...queued]) {
      expect(w.state).toBe('rejected');
      expect(w.error).toBeInstanceOf(StoreBrokenError);
    }
    expect(barrier.broken).toBeInstanceOf(StoreBrokenError);
    expect((barrier.broken?.cause as { code?: string } | undefined)?.code).toBe('EIO');
    await expect(barrier.request()).rejects.toBeInstanceOf(StoreBrokenError);
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(1);
    await barrier.close();
  });

  it('a WAL file that vanished breaks the barrier (its commits may be lost)', async () => {
    const barrier = new WalBarrier(join(dir, 'missing-wal'), async () => undefined);
    await expect(barrier.request()).rejects.toBeInstanceOf(StoreBrokenError);
    expect(barrier.broken).toBeInstanceOf(StoreBrokenError);
    await barrier.close();
  });
});
