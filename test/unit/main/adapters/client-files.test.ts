import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clientFileStores } from '../../../../main/adapters/client-files.ts';
import { PurchaseService } from '../../../../main/services/purchase-service.ts';
import { FakeClock } from '../../../fakes/fake-clock.ts';
import { FakeRelay } from '../../../fakes/fake-relay.ts';
import { MemoryLogger } from '../../../fakes/memory-stores.ts';
import { submittedIntent } from '../../../fakes/pending-intent.ts';

/*
 * The pending-purchases file as main reads it after a restart: a real file in a temp folder,
 * written by hand the way a truncated, edited or other-version file would look.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A data folder whose pending file holds `doc` (a string is written as is). */
function folderWith(doc: unknown): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'stb-client-files-'));
  dirs.push(dir);
  const file = join(dir, 'pending-purchases.json');
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return { dir, file };
}

/** The warnings about dropped records, by key. */
function dropped(log: MemoryLogger): unknown[] {
  return log.lines.filter((l) => l.level === 'warn' && l.message.startsWith('pending purchase record dropped')).map((l) => l.fields?.['key']);
}

describe('the pending-purchases file as read after a restart', () => {
  const good = submittedIntent();

  it.each([
    ['a state the purchase machine does not have', { state: 'PAID' }],
    ['a missing field', { acknowledged: undefined }],
    ['a wrong type', { quantity: '1' }],
    ['a total in floats', { total: { currency: 'HKD', minor: 12.5 } }],
    ['an unknown wallet', { wallet: 'PAYPAL' }],
    ['a binding id the relay never mints', { bindingId: 'x' }],
    ['an extra field (never dropped silently: the shape is strict)', { note: 'edited by hand' }],
  ])('drops a record with %s, with a warning naming its key, and keeps the others', async (_what, change) => {
    const bad = { ...submittedIntent(), ...change };
    const { dir, file } = folderWith({ [good.purchaseIntentId]: good, [bad.purchaseIntentId]: bad });
    const log = new MemoryLogger();
    const { pending } = clientFileStores(dir, log);

    expect(await pending.list()).toEqual([good]);
    expect(dropped(log)).toEqual([bad.purchaseIntentId]);
    // Gone from the file at the next write; the good record stays.
    await pending.put(good.purchaseIntentId, good);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')))).toEqual([good.purchaseIntentId]);
  });

  it('drops a record stored under a key that is not its id (it could never be removed)', async () => {
    const other = submittedIntent();
    const { dir } = folderWith({ [good.purchaseIntentId]: good, 'not-its-id': other });
    const log = new MemoryLogger();
    expect(await clientFileStores(dir, log).pending.list()).toEqual([good]);
    expect(dropped(log)).toEqual(['not-its-id']);
  });

  it('a mix of good and bad records: the good ones are resumed, the bad ones are never sent to the relay', async () => {
    const kept = [submittedIntent(), submittedIntent({ state: 'PROCESSING', acknowledged: true })];
    const bad = [
      { ...submittedIntent(), state: 'SENT' },
      { ...submittedIntent(), quantity: 0 },
      { ...submittedIntent(), createdAt: 'yesterday' },
    ];
    const { dir } = folderWith(Object.fromEntries([...kept, ...bad].map((r) => [r.purchaseIntentId, r])));
    const log = new MemoryLogger();
    const clock = new FakeClock();
    const relay = new FakeRelay();
    const svc = new PurchaseService({
      relay,
      binding: { active: () => ({ bindingId: good.bindingId, wallet: 'ALIPAY_HK', maskedAccount: '852-****-8812' }) },
      pending: clientFileStores(dir, log).pending,
      clock,
      log,
      newIntentId: () => crypto.randomUUID(),
      resubmitWindowMs: Number.MAX_SAFE_INTEGER,
    });
    await svc.resume();
    svc.dispose();

    for (const r of kept) expect(relay.count(`getPurchase ${r.purchaseIntentId}`)).toBe(1);
    for (const r of bad) expect(relay.calls.filter((c) => c.includes(r.purchaseIntentId))).toEqual([]);
    expect(new Set(dropped(log))).toEqual(new Set(bad.map((r) => r.purchaseIntentId)));
  });

  it.each([
    ['truncated JSON', '{"a": {"purchaseIntentId": '],
    ['JSON that is not an object', JSON.stringify([good])],
    ['null', 'null'],
  ])('a file of %s reads as empty with a warning, and is kept aside before the next write replaces it', async (_what, text) => {
    const { dir, file } = folderWith(text);
    const log = new MemoryLogger();
    const { pending } = clientFileStores(dir, log);

    expect(await pending.list()).toEqual([]);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('not a JSON object') }));
    await pending.put(good.purchaseIntentId, good);
    expect(readFileSync(`${file}.unreadable`, 'utf8')).toBe(text);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ [good.purchaseIntentId]: good });
  });

  it('a missing file reads as empty without a warning', async () => {
    const { dir, file } = folderWith('');
    rmSync(file);
    const log = new MemoryLogger();
    expect(await clientFileStores(dir, log).pending.list()).toEqual([]);
    expect(log.lines).toEqual([]);
    expect(existsSync(`${file}.unreadable`)).toBe(false);
  });
});
