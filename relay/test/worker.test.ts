import { describe, expect, it } from 'vitest';
import { Worker } from '../src/worker.ts';
import { capturedLogger } from './support/logs.ts';
import { sleep } from './support/streams.ts';

// The worker's timed passes run only while `timed()` says so (on PostgreSQL: in the process
// holding the worker lock, change-watcher.ts); a kicked pass (work this process just made) runs
// whatever it says, so a process that does not poll still handles its own work at once.
describe('worker passes', () => {
  it('makes no timed pass while timed() is false, still runs a kicked one at once, and resumes ticking when timed() turns true', async () => {
    let timed = false;
    let passes = 0;
    const worker = new Worker(
      [
        async () => {
          passes += 1;
        },
      ],
      20,
      capturedLogger().logger,
      () => timed,
    );
    worker.start();
    try {
      await sleep(200);
      expect(passes).toBe(0);

      worker.kick();
      await sleep(30);
      expect(passes).toBe(1);
      // The kicked pass does not start a timed series.
      await sleep(150);
      expect(passes).toBe(1);

      timed = true;
      await sleep(200);
      expect(passes).toBeGreaterThan(3);
    } finally {
      await worker.stop();
    }
  });
});
