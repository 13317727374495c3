import { fstatSync } from 'node:fs';
import { fdatasyncFile, type SyncFile } from '../../src/store/wal-barrier.ts';

/** One flush the gate holds: `finish` runs it (the real flush, or none), `fail` rejects it. */
export interface HeldFlush {
  fd: number;
  /** The inode of the file flushed (which WAL file the barrier had open). */
  inode: number;
  finish(): void;
  fail(err: Error): void;
}

/**
 * A WAL flush for openStore's `walSync` (and WalBarrier) that a test can count, hold or fail:
 * while `hold` is on, each flush waits in `held` until the test finishes or fails it;
 * `failNext` fails the next one at once. `flush` is what runs when it may (default a real
 * fdatasync on libuv's pool: SQLite is never mocked).
 */
export function flushGate(flush: SyncFile = fdatasyncFile) {
  const gate = {
    hold: false,
    calls: 0,
    held: [] as HeldFlush[],
    failNext: undefined as Error | undefined,
    sync: (fd: number): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        gate.calls++;
        const finish = (): void => void flush(fd).then(resolve, reject);
        if (gate.failNext) {
          reject(gate.failNext);
          gate.failNext = undefined;
        } else if (gate.hold) gate.held.push({ fd, inode: fstatSync(fd).ino, finish, fail: reject });
        else finish();
      }),
    /** Stops holding and runs every held flush. */
    release(): void {
      gate.hold = false;
      for (const h of gate.held.splice(0)) h.finish();
    },
  };
  return gate;
}

/**
 * Yields to the event loop until `check` holds, for at most 10 s (the barrier's stat, open and
 * flushes run on libuv's pool, whose pace a loaded machine sets).
 */
export async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
