import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { CHECKPOINT_WORKER_SOURCE, type CheckpointWorkerData, SLOTS } from './checkpoint-worker.ts';

/** Where the checkpointer reports a fallback (the relay's logger; pino's `warn(obj, msg)` shape). */
export interface StoreLogger {
  warn(obj: object, msg: string): void;
}

/** What the checkpoints did (tests, ops): the worker's, the last one's `wal_checkpoint` answer, and the relay's own. */
export interface CheckpointStats {
  /** Checkpoints the worker ran (each a `wal_checkpoint(PASSIVE)`). */
  readonly runs: number;
  /** The worker's last: frames in the WAL, and frames of it now in the database. */
  readonly log: number;
  readonly checkpointed: number;
  /** Checkpoints the relay's connection ran itself because the WAL outgrew `maxWalFrames`. */
  readonly onLoop: number;
}

/** When the checkpoints run. */
export interface CheckpointOptions {
  /** Durable commits between two nudges of the worker (default 250: a few pages each, about SQLite's own 1000-page threshold). */
  commitsPerCheckpoint?: number | undefined;
  /** The worker's slow timer, ms (default 1000): a checkpoint even without a nudge (relaxed commits are not counted). */
  intervalMs?: number | undefined;
  /** WAL frames beyond which the relay's connection checkpoints the rest itself (default 10,000: see Checkpointer). */
  maxWalFrames?: number | undefined;
}

/** SQLite's own automatic checkpoint threshold (pages), restored on the fallback. */
const SQLITE_AUTOCHECKPOINT = 1000;

/**
 * Takes SQLite's checkpoints off the event loop (issue 17, "Refusals never wait behind work").
 * With automatic checkpoints, the commit that grows the WAL past 1000 pages runs the checkpoint
 * itself, on the event loop, fsyncing the WAL and the database there: a periodic stall every
 * request waits behind. Here the relay's connection runs with `wal_autocheckpoint = 0` and a
 * worker thread with its own connection to the same file runs `wal_checkpoint(PASSIVE)` when
 * the relay nudges it (every `commitsPerCheckpoint` durable commits, counted after each WAL
 * flush) and on a slow timer (which also covers the relaxed commits, not counted).
 *
 * The bound: SQLite restarts the WAL only when a commit begins after a checkpoint that copied
 * every frame. A worker's checkpoint runs beside the relay's commits and fsyncs twice, so under
 * sustained writes it rarely catches up: the WAL would grow for as long as the load lasts. Once
 * the worker reports more than `maxWalFrames` frames, the relay's connection runs one PASSIVE
 * checkpoint itself, after a flush: it copies only the tail the worker has not (the frames of
 * the last few commits) and lets the next commit restart the WAL. That is a short stall on the
 * event loop, every `maxWalFrames` frames under sustained load (ten times rarer than SQLite's
 * own, and without the bulk copy), and none while the worker keeps up.
 *
 * Safety: automatic checkpoints are turned off only once the worker has opened the database,
 * and turned back on (warned once) if it cannot start or dies, so the WAL never grows without
 * bound. A checkpoint never replaces the WAL file (it is reset, then rewritten from its start
 * by the next commit; only the last connection's close deletes it), so the WAL barrier's
 * descriptor stays valid. `stop()` ends the worker, whose close leaves the WAL alone (the
 * relay's connection is still open); the relay's close then checkpoints and deletes it.
 */
export class Checkpointer {
  readonly #sqlite: BetterSqlite3.Database;
  readonly #log: StoreLogger;
  readonly #every: number;
  readonly #maxFrames: number;
  readonly #state = new Int32Array(new SharedArrayBuffer(Object.keys(SLOTS).length * Int32Array.BYTES_PER_ELEMENT));
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  #nudgedAt = 0;
  #running = false;
  #stopping = false;
  #fellBack = false;
  /** Resolves once the worker has the database open (true) or has failed to (false). */
  readonly ready: Promise<boolean>;

  constructor(sqlite: BetterSqlite3.Database, file: string, log: StoreLogger, options: CheckpointOptions = {}) {
    this.#sqlite = sqlite;
    this.#log = log;
    this.#every = options.commitsPerCheckpoint ?? 250;
    this.#maxFrames = options.maxWalFrames ?? 10 * SQLITE_AUTOCHECKPOINT;
    const sqliteModule = createRequire(import.meta.url).resolve('better-sqlite3');
    const workerData: CheckpointWorkerData = { file, sqliteModule, state: this.#state.buffer, slots: SLOTS, intervalMs: options.intervalMs ?? 1000 };
    this.#worker = new Worker(CHECKPOINT_WORKER_SOURCE, { eval: true, workerData });
    let settle!: (ok: boolean) => void;
    // Once it has started (or failed to), the worker never keeps the process alive: close()
    // stops it. Until then it must, or a process awaiting `ready` alone would exit.
    this.ready = new Promise<boolean>((res) => {
      settle = res;
    }).finally(() => this.#worker.unref());
    this.#worker.once('message', () => {
      if (this.#stopping || this.#fellBack) return settle(false);
      this.#sqlite.pragma('wal_autocheckpoint = 0');
      this.#running = true;
      settle(true);
    });
    let failure: unknown;
    this.#worker.on('error', (err) => {
      failure = err;
    });
    this.#exited = new Promise((res) => {
      this.#worker.once('exit', (code) => {
        settle(false);
        if (!this.#stopping) this.#fallBack(failure ?? new Error(`the checkpoint worker exited with code ${code}`));
        res();
      });
    });
  }

  /** What the worker's checkpoints did so far. */
  get stats(): CheckpointStats {
    const s = this.#state;
    return {
      runs: Atomics.load(s, SLOTS.runs),
      log: Atomics.load(s, SLOTS.log),
      checkpointed: Atomics.load(s, SLOTS.checkpointed),
      onLoop: Atomics.load(s, SLOTS.onLoop),
    };
  }

  /** True while the worker checkpoints (false before it is ready, after a fallback or stop). */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Called after each WAL flush with the durable commits so far: nudges the worker every
   * `commitsPerCheckpoint`, and checkpoints on the relay's connection once the WAL outgrew
   * `maxWalFrames` (the bound, above).
   */
  flushed(commits: number): void {
    if (!this.#running) return;
    if (Atomics.load(this.#state, SLOTS.log) >= this.#maxFrames) this.#checkpointOnLoop();
    if (commits - this.#nudgedAt < this.#every) return;
    this.#nudgedAt = commits;
    this.#wake();
  }

  #checkpointOnLoop(): void {
    const r = this.#sqlite.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    Atomics.add(this.#state, SLOTS.onLoop, 1);
    // Busy: the worker is checkpointing; try again after the next flush. Otherwise the worker's
    // report is stale (the WAL restarts with the next commit); its next round reports afresh.
    if (r[0]?.busy === 0) Atomics.store(this.#state, SLOTS.log, 0);
  }

  /** Ends the worker (a checkpoint in progress finishes first); call before the relay's connection closes. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#running = false;
    Atomics.store(this.#state, SLOTS.stop, 1);
    this.#wake();
    const timer = setTimeout(() => void this.#worker.terminate(), 5000);
    await this.#exited;
    clearTimeout(timer);
  }

  #wake(): void {
    Atomics.add(this.#state, SLOTS.wake, 1);
    Atomics.notify(this.#state, SLOTS.wake);
  }

  /** The worker cannot checkpoint: SQLite's automatic checkpoints take over again (warned once). */
  #fallBack(err: unknown): void {
    this.#running = false;
    if (this.#fellBack) return;
    this.#fellBack = true;
    if (this.#sqlite.open) this.#sqlite.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT}`);
    this.#log.warn(
      { err: (err as Error)?.message ?? String(err) },
      'the checkpoint worker stopped: SQLite checkpoints on the event loop again (automatic checkpoints)',
    );
  }
}
