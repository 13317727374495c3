import { openStore } from '../../src/store/db.ts';
import { until } from './flush-gate.ts';

/*
 * The checkpoint worker as tsx runs it (the relay in dev: `npm run relay`), for
 * store-checkpoints.test.ts: `node --import tsx checkpoint-probe.ts <dataDir>` opens a store,
 * makes durable commits until the worker has checkpointed, and prints the store's checkpoint
 * stats as JSON. tsx compiles with esbuild's keepNames, unlike vitest, so the worker's source
 * (checkpointLoop's text) differs from the one the test file itself runs.
 */
const dir = process.argv[2];
if (!dir) throw new Error('usage: checkpoint-probe.ts <dataDir>');
const store = await openStore({ dataDir: dir, checkpoints: { commitsPerCheckpoint: 5, intervalMs: 50 } });
try {
  const sqlite = store.sqlite;
  if (!sqlite) throw new Error('the probe needs the SQLite store');
  sqlite.exec('create table probe (id integer primary key, v blob)');
  const insert = sqlite.prepare('insert into probe (v) values (?)');
  for (let i = 0; i < 20; i++) {
    insert.run(Buffer.alloc(500, i));
    await store.durable();
  }
  await until(() => !store.checkpoints?.running || (store.checkpoints?.checkpointed ?? 0) > 0, 'a checkpoint by the worker');
  process.stdout.write(`${JSON.stringify(store.checkpoints)}\n`);
} finally {
  await store.close();
}
