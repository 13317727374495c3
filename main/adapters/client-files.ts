import { join } from 'node:path';
import { type PendingIntent, PendingIntentSchema } from '../services/purchase-intent.ts';
import type { KioskVisitStore, Logger, PendingIntentStore } from '../services/ports.ts';
import { createFileKioskVisitStore } from './kiosk-visit-store.file.ts';
import { createRedactingLogger, stderrSink } from './logger.plain.ts';
import { createFilePendingStore } from './pending-store.file.ts';

/**
 * The client's two durable files in its data folder: unfinished purchases and the kiosk visit.
 * `log` hears of pending-purchase records dropped on reading (default: JSON lines on stderr).
 */
export function clientFileStores(
  dir: string,
  log: Logger = createRedactingLogger([stderrSink]),
): { pending: PendingIntentStore<PendingIntent>; visitStore: KioskVisitStore } {
  return {
    pending: createFilePendingStore(join(dir, 'pending-purchases.json'), { schema: PendingIntentSchema, idOf: (r) => r.purchaseIntentId, log }),
    visitStore: createFileKioskVisitStore(join(dir, 'kiosk-visit.json')),
  };
}
