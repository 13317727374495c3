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

/**
 * The durable barrier of a SQLite database in WAL mode with `synchronous = NORMAL` (issue 17,
 * group commit): `request()` resolves once every byte written to the WAL before the call is on
 * the disk. Its flush runs on libuv's thread pool, not the event loop.
 *
 * Group commit: at most one flush is in flight. A request made while none is starts one at
 * once; requests made while one is in flight wait for the next, which starts when the current
 * one ends and covers all of them (their commits were written before it started). So N commits
 * arriving together cost about two flushes, not N; a request never resolves before a flush that
 * started after its commit was written has finished.
 *
 * Why this is sound: SQLite writes a commit's WAL frames with write(2) before `run()` returns,
 * and the WAL is a sequential log, so a flush of the file covers every commit before it, and
 * the frames are replayed in order on recovery (a torn tail is cut at the first bad checksum,
 * never in the middle of a flushed commit). With NORMAL, SQLite still flushes the WAL before a
 * checkpoint copies it into the database and the database after, and flushes the WAL header
 * when it restarts the log: a checkpoint never moves unflushed frames, and a restart rewrites
 * the same file (same inode, still covered by our descriptor).
 *
 * The WAL file: opened on the first flush (SQLite creates it after the database is opened),
 * and its directory flushed once then, so the file's name is on the disk too. Before each
 * flush the path's inode is compared with the descriptor's: SQLite deletes the WAL only when the
 * last connection closes, which cannot happen while the store holds its own, but if the file
 * was replaced anyway, the new one is opened and its directory flushed.
 *
 * A failed flush breaks the barrier for good (fail closed, see StoreBrokenError): every
 * waiter gets the error, and so does every later request.
 */
export class WalBarrier {
  readonly #path: string;
  readonly #sync: SyncFile;
  #fd: number | undefined;
  #inode = 0;
  /** Waiters of the flush in flight (undefined: none in flight). */
  #flushing: Waiters | undefined;
  /** Waiters of the next flush: requests made while one was in flight. */
  #next: Waiters | undefined;
  #broken: StoreBrokenError | undefined;
  #closed = false;
  readonly stats: BarrierStats = { requests: 0, syncs: 0 };
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
    if (!this.#flushing) {
      this.#flushing = waiters();
      this.#flush(this.#flushing);
      return this.#flushing.promise;
    }
    this.#next ??= waiters();
    return this.#next.promise;
  }

  /** Waits for the flushes asked for so far, then closes the WAL descriptor (the database closes on its own). */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#flushing) await this.#flushing.promise.catch(() => undefined);
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) await closeFile(fd);
  }

  #flush(batch: Waiters): void {
    this.stats.syncs++;
    this.#flushOnce().then(
      () => {
        batch.resolve();
        this.onFlushed?.(this.stats.requests);
        this.#done();
      },
      (err: unknown) => {
        this.#broken = new StoreBrokenError(err);
        batch.reject(this.#broken);
        this.#next?.reject(this.#broken);
        this.#next = undefined;
        this.#flushing = undefined;
      },
    );
  }

  #done(): void {
    this.#flushing = this.#next;
    this.#next = undefined;
    if (this.#flushing) this.#flush(this.#flushing);
  }

  async #flushOnce(): Promise<void> {
    if (this.#fd === undefined || (await inodeOfPath(this.#path)) !== this.#inode) await this.#reopen();
    await this.#sync(this.#fd as number);
  }

  async #reopen(): Promise<void> {
    const old = this.#fd;
    this.#fd = undefined;
    if (old !== undefined) await closeFile(old);
    const fd = await openFile(this.#path);
    this.#inode = await inodeOfFd(fd);
    this.#fd = fd;
    // The file is new to us: its directory entry must be on the disk as well as its bytes.
    const dir = await openFile(dirname(this.#path));
    try {
      await fsyncFile(dir);
    } finally {
      await closeFile(dir);
    }
  }
}
