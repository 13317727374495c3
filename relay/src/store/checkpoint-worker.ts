import type * as Threads from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/** The slots of the state the relay and the checkpoint worker share (an Int32Array on a SharedArrayBuffer). */
export const SLOTS = { wake: 0, stop: 1, runs: 2, log: 3, checkpointed: 4, onLoop: 5 } as const;

/** What the relay hands the checkpoint worker (its `workerData`). */
export interface CheckpointWorkerData {
  /** The database file the worker opens (its own connection). */
  readonly file: string;
  /** better-sqlite3 as the relay resolved it, so the worker loads the same build. */
  readonly sqliteModule: string;
  /** The shared state, laid out by `slots`. */
  readonly state: SharedArrayBuffer;
  readonly slots: typeof SLOTS;
  /** The slow timer, ms: a checkpoint even without a nudge. */
  readonly intervalMs: number;
}

/**
 * The checkpoint worker's loop. It runs in the worker thread from its own text (see
 * CHECKPOINT_WORKER_SOURCE), so it is self-contained: no reference to anything outside its body
 * but its parameters and JavaScript's globals, and no named inner function (tsx compiles with
 * esbuild's keepNames, which wraps those in a `__name` helper the worker would not have).
 *
 * It opens its own connection to the database and loops: wait for a nudge (`wake` changes) or
 * the slow timer, then `wal_checkpoint(PASSIVE)`. PASSIVE never waits for a lock and never
 * blocks the relay's readers or writer. A checkpoint that could not copy every frame (the relay
 * appended meanwhile) is repeated at once, a few times: each round copies only what was written
 * during the last, so it catches up and the relay's next commit can restart the WAL from its
 * start (SQLite restarts it only after a checkpoint that copied every frame). It stops early when
 * a round copied nothing new (a reader of an older snapshot holds the rest). Blocking in
 * Atomics.wait is fine here: the thread has nothing else to do, and the relay wakes it through
 * the shared state, not messages.
 */
export function checkpointLoop(threads: typeof Threads, Database: typeof BetterSqlite3): void {
  const data = threads.workerData as CheckpointWorkerData;
  const { slots } = data;
  const s = new Int32Array(data.state);
  const db = new Database(data.file, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const checkpoint = db.prepare<[], { busy: number; log: number; checkpointed: number }>('PRAGMA wal_checkpoint(PASSIVE)');
  threads.parentPort?.postMessage('ready');
  let wake = Atomics.load(s, slots.wake);
  while (Atomics.load(s, slots.stop) === 0) {
    Atomics.wait(s, slots.wake, wake, data.intervalMs);
    wake = Atomics.load(s, slots.wake);
    if (Atomics.load(s, slots.stop) !== 0) break;
    let copied = -1;
    for (let round = 0; round < 4; round++) {
      const r = checkpoint.get();
      if (!r) break;
      Atomics.store(s, slots.log, r.log);
      Atomics.store(s, slots.checkpointed, r.checkpointed);
      Atomics.add(s, slots.runs, 1);
      if (r.busy || r.checkpointed >= r.log || r.checkpointed === copied) break;
      copied = r.checkpointed;
    }
  }
  db.close();
}

/**
 * The worker's source, run with `eval: true`: `checkpointLoop`'s text as this build compiled it
 * (tsx in dev and tests, vite for relay/dist), called with the modules it needs. One text serves
 * both because the compiled relay is a bundle: a worker file beside the sources would not ship
 * in relay/dist, and plain Node (no TypeScript loader in a worker) could not run it in dev.
 * relay/test/store-checkpoints.test.ts (vitest and tsx) and relay/test/built-relay.test.ts
 * (relay/dist) run it.
 */
export const CHECKPOINT_WORKER_SOURCE = `'use strict';
const threads = require('node:worker_threads');
(${checkpointLoop.toString()})(threads, require(threads.workerData.sqliteModule));
`;
