import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createFilePendingStore } from '../../../../main/adapters/pending-store.file.ts';
import { MemoryLogger } from '../../../fakes/memory-stores.ts';

const items = { schema: z.strictObject({ id: z.string(), n: z.number() }), idOf: (v: { id: string }) => v.id, log: new MemoryLogger() };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function place(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stb-pending-'));
  dirs.push(dir);
  return join(dir, 'sub', 'pending-purchases.json');
}

describe('file pending store', () => {
  it('applies operations in call order: a removal called while its put is in flight follows it (the purchase service does not await puts)', async () => {
    const file = place();
    const store = createFilePendingStore(file, items);
    const put = store.put('a', { id: 'a', n: 1 });
    const removed = store.remove('a');
    const kept = store.put('b', { id: 'b', n: 2 });
    await Promise.all([put, removed, kept]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ b: { id: 'b', n: 2 } });
    expect(await createFilePendingStore(file, items).list()).toEqual([{ id: 'b', n: 2 }]);
  });

  it('keeps intents in its file across a restart (a new store reads it) and drops invalid entries', async () => {
    const file = place();
    const store = createFilePendingStore(file, items);
    await store.put('a', { id: 'a', n: 1 });
    await store.put('b', { id: 'b', n: 2 });
    await store.remove('a');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ b: { id: 'b', n: 2 } });
    writeFileSync(file, JSON.stringify({ b: { id: 'b', n: 2 }, bad: { id: 3 } }));
    expect(await createFilePendingStore(file, items).list()).toEqual([{ id: 'b', n: 2 }]);
  });

  it('reads its file once: afterwards it works from what it wrote last (main is the only writer)', async () => {
    const file = place();
    const store = createFilePendingStore(file, items);
    await store.put('a', { id: 'a', n: 1 });
    writeFileSync(file, '{}');
    await store.put('b', { id: 'b', n: 2 });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ a: { id: 'a', n: 1 }, b: { id: 'b', n: 2 } });
  });

  it('after a write that failed it reads the file again instead of trusting what it meant to write', async () => {
    const file = place();
    const store = createFilePendingStore(file, items);
    await store.put('a', { id: 'a', n: 1 });
    const tmp = `${file}.${process.pid}.tmp`;
    mkdirSync(tmp); // the temp file cannot be written: the put fails
    await expect(store.put('b', { id: 'b', n: 2 })).rejects.toThrow();
    rmSync(tmp, { recursive: true });
    writeFileSync(file, JSON.stringify({ c: { id: 'c', n: 3 } }));
    expect(await store.list()).toEqual([{ id: 'c', n: 3 }]);
    await store.put('d', { id: 'd', n: 4 });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ c: { id: 'c', n: 3 }, d: { id: 'd', n: 4 } });
  });
});
