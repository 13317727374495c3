import type { KioskVisitStore } from '../services/ports.ts';
import { readTextOrNull, serialQueue, writeFileAtomic } from './atomic-file.ts';

/**
 * KioskVisitStore as one JSON file in the user-data folder (kiosk-visit.json): the current
 * visit id and the outbox of relay calls a reset still owes. Written atomically and flushed to
 * disk before the rename, since a reset counts on it surviving a crash or a power cut; writes
 * are serialised. Holds no secrets: a random visit id and opaque binding ids.
 */
export function createFileKioskVisitStore(file: string): KioskVisitStore {
  const serial = serialQueue();
  return {
    load: () =>
      serial(async () => {
        const text = await readTextOrNull(file);
        if (text === null) return null;
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return null;
        }
      }),
    save: (doc) => serial(() => writeFileAtomic(file, JSON.stringify(doc), { fsync: true })),
  };
}
