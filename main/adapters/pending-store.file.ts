import type { PendingIntentStore } from '../services/ports.ts';
import { readTextOrNull, serialQueue, writeFileAtomic } from './atomic-file.ts';

/**
 * PendingIntentStore as one JSON file in the user-data folder, written atomically (temp file +
 * rename) so a crash mid-write leaves the old version. Holds no secrets: intent ids, SKUs,
 * quantities, totals and the opaque binding id. Writes are serialised. The file is read once;
 * after that the store keeps what it last wrote (main is its only writer: one instance of
 * the app), so a put before a payment request costs one write and one rename.
 */
export function createFilePendingStore<T>(file: string, isValid: (v: unknown) => v is T): PendingIntentStore<T> {
  const serial = serialQueue();
  /** The file's content as last read or written. */
  let known: Record<string, T> | null = null;
  const read = async (): Promise<Record<string, T>> => {
    if (known) return { ...known };
    known = await load();
    return { ...known };
  };
  const load = async (): Promise<Record<string, T>> => {
    const text = await readTextOrNull(file);
    if (text === null) return {};
    try {
      const doc = JSON.parse(text) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(doc).filter((e): e is [string, T] => isValid(e[1])));
    } catch {
      return {};
    }
  };
  const write = async (doc: Record<string, T>) => {
    // Forgotten until the rename succeeds: after a failed write the file is read again.
    known = null;
    await writeFileAtomic(file, JSON.stringify(doc));
    known = doc;
  };
  return {
    list: () => serial(async () => Object.values(await read())),
    put: (id, value) => serial(async () => write({ ...(await read()), [id]: value })),
    remove: (id) =>
      serial(async () => {
        const doc = await read();
        if (!(id in doc)) return;
        delete doc[id];
        await write(doc);
      }),
  };
}
