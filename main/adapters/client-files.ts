import { join } from 'node:path';
import type { PendingIntent } from '../services/purchase-intent.ts';
import { isPendingIntent } from '../services/purchase-intent.ts';
import type { KioskVisitStore, PendingIntentStore } from '../services/ports.ts';
import { createFileKioskVisitStore } from './kiosk-visit-store.file.ts';
import { createFilePendingStore } from './pending-store.file.ts';

/** The client's two durable files in its data folder: unfinished purchases and the kiosk visit. */
export function clientFileStores(dir: string): { pending: PendingIntentStore<PendingIntent>; visitStore: KioskVisitStore } {
  return {
    pending: createFilePendingStore(join(dir, 'pending-purchases.json'), isPendingIntent),
    visitStore: createFileKioskVisitStore(join(dir, 'kiosk-visit.json')),
  };
}
