import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/db.ts';
import { until } from './support/flush-gate.ts';

/*
 * SQLite's checkpoints off the event loop (issue 17, Checkpointer), on a real database and a
 * real worker thread: the relay's connection runs with automatic checkpoints off, the worker
 * copies the WAL into the database, and the fallbacks keep the WAL bounded.
 */

type Options = Parameters<typeof openStore>[0];

describe('SQLite checkpoints run on a worker thread', () => {
  let dir: string;
  let store: Store | undefined;
  let warnings: string[];
  const open = async (checkpoints: Options['checkpoints']): Promise<Store> => {
    store = await openStore({ dataDir: dir, logger: { warn: (_obj, msg) => warnings.push(msg) }, checkpoints });
    store.sqlite?.exec('create table t (id integer primary key, v blob)');
    return store;
  };
  /** `n` durable commits of one row each, as the relay's hot path makes them (Store.durable). */
  const commit = async (s: Store, n: number): Promise<void> => {
    const insert = s.sqlite?.prepare('insert into t (v) values (?)');
    for (let i = 0; i < n; i++) {
      insert?.run(Buffer.alloc(500, i));
      await s.durable();
    }
  };
  /** Commits one row at a time, pausing between, until the worker reports fewer than `frames` in the WAL. */
  const restarted = async (s: Store, frames: number): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while ((s.checkpoints?.log ?? frames) >= frames) {
      if (Date.now() > deadline) throw new Error(`the WAL did not restart: ${JSON.stringify(s.checkpoints)}`);
      await commit(s, 1);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const db = () => join(dir, 'relay.sqlite');
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'store-ckpt-'));
    warnings = [];
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('the relay connection never checkpoints on its own; the worker copies the WAL into the database and lets it restart', async () => {
    const s = await open({ commitsPerCheckpoint: 20, intervalMs: 50, maxWalFrames: 1_000_000 });
    expect(s.sqlite?.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    expect(s.checkpoints?.running).toBe(true);
    const before = statSync(db()).size;
    await commit(s, 300);
    // The pages reached the database file: someone checkpointed, and it was not the relay's connection.
    await until(() => statSync(db()).size > before && (s.checkpoints?.checkpointed ?? 0) > 0, 'a checkpoint by the worker');
    expect(s.checkpoints?.onLoop).toBe(0);
    // Once the worker has caught up, the next commit restarts the WAL from its start: the WAL
    // then holds fewer frames than the 300 commits wrote (one page each at least).
    await restarted(s, 300);
    expect(s.checkpoints?.onLoop).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('the worker runs as tsx compiles it too (the relay in dev), not only as vitest does', async () => {
    // tsx wraps named functions in esbuild's `__name` helper, which the worker thread lacks: a
    // worker source that leaned on one would fail there, and the store fall back (running: false).
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support', 'checkpoint-probe.ts'), dir], {
      cwd: resolve(import.meta.dirname, '..', '..'),
      encoding: 'utf8',
    });
    const stats = JSON.parse(stdout) as NonNullable<Store['checkpoints']>;
    expect(stats).toMatchObject({ running: true, onLoop: 0 });
    expect(stats.runs).toBeGreaterThan(0);
    expect(stats.checkpointed).toBeGreaterThan(0);
  });

  it('falls back to automatic checkpoints, warned once, when the worker cannot open the database', async () => {
    const s = await open({ file: join(dir, 'missing', 'relay.sqlite') });
    expect(s.checkpoints?.running).toBe(false);
    expect(s.sqlite?.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(warnings).toEqual(['the checkpoint worker stopped: SQLite checkpoints on the event loop again (automatic checkpoints)']);
    // The WAL stays bounded by SQLite's own checkpoints: 1,500 commits of a 500-byte row and
    // an index page would fill ~12 MB of 4 KiB frames without any.
    await commit(s, 1500);
    expect(statSync(`${db()}-wal`).size).toBeLessThan(6_000_000);
  });

  it('past maxWalFrames the relay connection checkpoints the tail itself, so the WAL restarts even while a reader holds the worker back', async () => {
    const s = await open({ commitsPerCheckpoint: 5, intervalMs: 50, maxWalFrames: 50 });
    // A reader of an old snapshot: no checkpoint may copy frames past it, so the WAL only grows.
    const reader = new SQLite(db());
    try {
      reader.exec('begin');
      reader.prepare('select count(*) from t').get();
      await commit(s, 120);
      await until(() => (s.checkpoints?.onLoop ?? 0) > 0, 'a checkpoint on the relay connection');
      reader.exec('commit');
    } finally {
      reader.close();
    }
    // Released, the checkpoints complete and a later commit restarts the WAL.
    await restarted(s, 50);
  });

  it('close stops the worker first, so the relay connection closes last: it checkpoints and deletes the WAL', async () => {
    const s = await open({});
    await commit(s, 50);
    expect(existsSync(`${db()}-wal`)).toBe(true);
    await s.close();
    store = undefined;
    expect(s.checkpoints?.running).toBe(false);
    // Only the last connection to close deletes the WAL: had the worker's outlived the relay's, it would remain.
    expect(existsSync(`${db()}-wal`)).toBe(false);
    const again = new SQLite(db(), { readonly: true });
    expect(again.prepare('select count(*) as n from t').get()).toEqual({ n: 50 });
    again.close();
  });
});
