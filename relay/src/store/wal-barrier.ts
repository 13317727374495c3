import { close, fdatasync, fstat, fsync, open, stat } from 'node:fs';
import { dirname } from 'node:path';

/** Flushes one open file to the disk (fdatasync by default); injected by tests to count or fail. */
export type SyncFile = (fd: number) => Promise<void>;

/** `fdatasync(2)` on libuv's thread pool: what SQLite itself calls for the WAL on Linux. */
export const fdatasyncFile: SyncFile = (fd) => new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));

/**
 * The store refuses every write because a flush of its log to the disk failed. After a failed
 * fsync the kernel may have dropped the dirty pages and marked them clean, so a retry can
 * "succeed" without the data ever reaching the disk (PostgreSQL's "fsyncgate", 2018): the
 * only safe reading is that commits since the last good flush may be lost. Code `STORE_BROKEN`.
 */
export class StoreBrokenError extends Error {
  readonly code = 'STORE_BROKEN';
  constructor(cause: unknown) {
    super(`the store's log could not be flushed to disk; it refuses writes until the relay restarts: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'StoreBrokenError';
  }
}

/** How many barriers were asked for and how many flushes served them (group commit: syncs ≤ requests). */
export interface BarrierStats {
  requests: number;
  syncs: number;
  /**
   * Flushes started and not yet ended, from opening the WAL to the flush's end (0 to 2). A
   * holder that committed twice awaits only its last commit's flush, which covers the first,
   * so a flush may still run after every caller was answered: 0 here means the barrier is at rest.
   */
  inFlight: number;
}

interface Waiters {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

const waiters = (): Waiters => {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const cb =
  <T>(resolve: (v: T) => void, reject: (e: unknown) => void) =>
  (err: NodeJS.ErrnoException | null, value: T): void =>
    err ? reject(err) : resolve(value);
const openFile = (path: string): Promise<number> => new Promise((res, rej) => open(path, 'r', cb(res, rej)));
const closeFile = (fd: number): Promise<void> => new Promise((res) => close(fd, () => res()));
const inodeOfFd = (fd: number): Promise<number> =>
  new Promise((res, rej) =>
    fstat(
      fd,
      cb((s) => res(s.ino), rej),
    ),
  );
const inodeOfPath = (path: string): Promise<number> =>
  new Promise((res, rej) =>
    stat(
      path,
      cb((s) => res(s.ino), rej),
    ),
  );
const fsyncFile = (fd: number): Promise<void> => new Promise((res, rej) => fsync(fd, (err) => (err ? rej(err) : res())));

/** Fresh stats; `inFlight` reads the barrier's own set of flushes in flight, so it cannot drift from it. */
const statsOf = (inFlight: ReadonlySet<unknown>): BarrierStats => ({
  requests: 0,
  syncs: 0,
  get inFlight() {
    return inFlight.size;
  },
});

/** One flush slot: its own descriptor of the WAL (see WalBarrier on why not a shared one). */
interface Slot {
  fd: number | undefined;
  inode: number;
  busy: boolean;
}

/** Flushes in flight at once (see WalBarrier). */
const SLOTS = 2;

/**
 * The durable barrier of a SQLite database in WAL mode with `synchronous = NORMAL` (issue 17,
 * group commit): `request()` resolves once every byte written to the WAL before the call is on
 * the disk. Its flushes run on libuv's thread pool, not the event loop.
 *
 * Group commit with two flushes in flight: a request made while a slot is free starts a flush
 * at once; requests made while both are busy wait together for the next, which starts as soon
 * as a slot frees and covers all of them (their commits were written before it started). So N
 * commits arriving together cost a few flushes, not N, and a request never resolves before a
 * flush that started after its commit was written has finished. Why two: with one, a commit
 * made just after a flush started waited for that flush, then for the event loop to see it end,
 * then for its own; under load the event loop's turn is the larger part (issue 17, bench #2).
 * With a second slot its own flush starts at once (the file system's journal still groups the
 * two where it can).
 *
 * Each slot has its own descriptor, and a flush's waiters resolve only when no failure was seen:
 * Linux reports a writeback error once per open file description, to the first fsync that
 * looks (PostgreSQL's "fsyncgate", 2018). Two concurrent fdatasyncs on one descriptor could
 * split an error between them: one sees it, the other returns success for pages that never
 * reached the disk. With a descriptor each, every flush sees every error since its own last
 * one. A flush that succeeds after any flush failed is rejected as well (fail closed).
 *
 * Why this is sound: SQLite writes a commit's WAL frames with write(2) before `run()` returns,
 * and the WAL is a sequential log, so a flush of the file covers every commit before it, and
 * the frames are replayed in order on recovery (a torn tail is cut at the first bad checksum,
 * never in the middle of a flushed commit). With NORMAL, SQLite still flushes the WAL before a
 * checkpoint copies it into the database and the database after, and flushes the WAL header
 * when it restarts the log: a checkpoint never moves unflushed frames, and a restart rewrites
 * the same file (same inode, still covered by our descriptors).
 *
 * The WAL file: each slot opens it on its first flush (SQLite creates it after the database is
 * opened) and flushes its directory then, so the file's name is on the disk too. The path's
 * inode is read beside each flush (on the pool at the same time, not before it): SQLite
 * deletes the WAL only when the last connection closes, which cannot happen while the store
 * holds its own, but if the file was replaced anyway, the slot opens the new one, flushes its
 * directory and flushes it before its waiters resolve.
 *
 * A failed flush breaks the barrier for good (fail closed, see StoreBrokenError): every
 * waiter gets the error, and so does every later request.
 */
export class WalBarrier {
  readonly #path: string;
  readonly #sync: SyncFile;
  readonly #slots: Slot[] = Array.from({ length: SLOTS }, () => ({ fd: undefined, inode: 0, busy: false }));
  /** Flushes in flight, each with its waiters (close() waits for them). */
  readonly #inFlight = new Set<Promise<void>>();
  /** Waiters of the next flush: requests made while every slot was busy. */
  #next: Waiters | undefined;
  #broken: StoreBrokenError | undefined;
  #closed = false;
  readonly stats: BarrierStats = statsOf(this.#inFlight);
  /** Called after each good flush with the requests so far (the checkpointer counts commits with it). */
  onFlushed: ((requests: number) => void) | undefined;

  /** `walPath`: the database's `-wal` file; `sync`: the flush (default fdatasync). */
  constructor(walPath: string, sync: SyncFile = fdatasyncFile) {
    this.#path = walPath;
    this.#sync = sync;
  }

  /** Set once a flush failed: the store refuses writes from then on. */
  get broken(): StoreBrokenError | undefined {
    return this.#broken;
  }

  /** Resolves when everything written to the WAL before this call is on the disk; rejects with StoreBrokenError. */
  request(): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    if (this.#closed) return Promise.reject(new Error('the store is closed'));
    this.stats.requests++;
    const slot = this.#freeSlot();
    if (slot) {
      const batch = waiters();
      this.#flush(slot, batch);
      return batch.promise;
    }
    this.#next ??= waiters();
    return this.#next.promise;
  }

  /** Waits for the flushes asked for so far, then closes the WAL descriptors (the database closes on its own). */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#inFlight.size > 0 || this.#next) await Promise.allSettled([...this.#inFlight, this.#next?.promise]);
    for (const slot of this.#slots) {
      const fd = slot.fd;
      slot.fd = undefined;
      if (fd !== undefined) await closeFile(fd);
    }
  }

  #freeSlot(): Slot | undefined {
    return this.#slots.find((s) => !s.busy);
  }

  #flush(slot: Slot, batch: Waiters): void {
    slot.busy = true;
    this.stats.syncs++;
    const settled: Promise<void> = this.#flushOnce(slot).then(
      () => {
        // A flush that ended after another failed may have been told of no error that concerns it.
        if (this.#broken) return this.#ended(slot, settled, batch);
        this.#ended(slot, settled);
        batch.resolve();
        this.onFlushed?.(this.stats.requests);
      },
      (err: unknown) => {
        this.#broken ??= new StoreBrokenError(err);
        this.#ended(slot, settled, batch);
      },
    );
    this.#inFlight.add(settled);
  }

  /**
   * The slot is free again (before its waiters resume, so their next request may use it). Once
   * the barrier is broken, `failed` and the requests that waited for a slot get the error;
   * otherwise those requests start their flush in this slot.
   */
  #ended(slot: Slot, settled: Promise<void>, failed?: Waiters): void {
    slot.busy = false;
    this.#inFlight.delete(settled);
    const next = this.#next;
    this.#next = undefined;
    if (this.#broken) {
      failed?.reject(this.#broken);
      next?.reject(this.#broken);
    } else if (next) this.#flush(slot, next);
  }

  async #flushOnce(slot: Slot): Promise<void> {
    if (slot.fd === undefined) await this.#reopen(slot);
    const [inode] = await Promise.all([inodeOfPath(this.#path), this.#sync(slot.fd as number)]);
    if (inode === slot.inode) return;
    await this.#reopen(slot);
    await this.#sync(slot.fd as number);
  }

  async #reopen(slot: Slot): Promise<void> {
    const old = slot.fd;
    slot.fd = undefined;
    if (old !== undefined) await closeFile(old);
    const fd = await openFile(this.#path);
    slot.inode = await inodeOfFd(fd);
    slot.fd = fd;
    // The file is new to this slot: its directory entry must be on the disk as well as its bytes.
    const dir = await openFile(dirname(this.#path));
    try {
      await fsyncFile(dir);
    } finally {
      await closeFile(dir);
    }
  }
}
