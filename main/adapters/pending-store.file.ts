import { rename } from 'node:fs/promises';
import { contractIssues } from '@scan-to-bind/shared/relay-api';
import type { z } from 'zod';
import type { Logger, PendingIntentStore } from '../services/ports.ts';
import { readTextOrNull, serialQueue, writeFileAtomic } from './atomic-file.ts';

/** How the file store reads its records: the record's schema, its id, and where a dropped record is reported. */
export interface PendingRecords<T> {
  /** The one shape of a record (the service owns it); a record that does not match is dropped. */
  readonly schema: z.ZodType<T>;
  /** The id a record is stored under: a record under another key could never be removed, so it is dropped too. */
  readonly idOf: (record: T) => string;
  readonly log: Logger;
}

/**
 * PendingIntentStore as one JSON file in the user-data folder, written atomically (temp file +
 * rename) so a crash mid-write leaves the old version. Holds no secrets: intent ids, SKUs,
 * quantities, totals and the opaque binding id. Writes are serialised. The file is read once;
 * after that the store keeps what it last wrote (main is its only writer: one instance of
 * the app), so a put before a payment request costs one write and one rename.
 *
 * The file is input from outside (truncated, edited, another version): each record is parsed
 * with `records.schema` when the file is read; one that does not match is dropped with a warning
 * naming its key and what was wrong (never its values), and the others are kept. Dropped records
 * are gone from the file at the next write. A file that is not a JSON object at all reads as
 * empty (as before: the relay's own record of an unfinished purchase still brings it back, see
 * PurchaseService.resume) and is first renamed to `<file>.unreadable`, so the next write does not
 * destroy what may still be worth a look.
 */
export function createFilePendingStore<T>(file: string, records: PendingRecords<T>): PendingIntentStore<T> {
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
    const doc = parseObject(text);
    if (!doc) {
      const aside = `${file}.unreadable`;
      const kept = await rename(file, aside).then(
        () => aside,
        () => null,
      );
      records.log.warn('pending purchases file is not a JSON object; read as empty', { kept });
      return {};
    }
    const out: Record<string, T> = {};
    for (const [key, value] of Object.entries(doc)) {
      const parsed = records.schema.safeParse(value);
      const issues = parsed.success ? (records.idOf(parsed.data) === key ? [] : ['(root): key is not the record id']) : contractIssues(parsed.error);
      if (parsed.success && issues.length === 0) out[key] = parsed.data;
      else records.log.warn('pending purchase record dropped: not a valid record', { key: key.slice(0, 64), issues: issues.slice(0, 10) });
    }
    return out;
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

/** The text as a JSON object (not an array, not null), or null. */
function parseObject(text: string): Record<string, unknown> | null {
  try {
    const doc: unknown = JSON.parse(text);
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
