import { createFileKioskVisitStore } from '../../../../main/adapters/kiosk-visit-store.file.ts';
import { createKioskReset } from '../../../../main/services/kiosk-session.ts';
import { KioskVisits } from '../../../../main/services/kiosk-visits.ts';
import { systemClock } from '../../../../main/services/ports.ts';
import { MemoryLogger } from '../../../fakes/memory-stores.ts';

/*
 * A kiosk process that dies mid-reset, for kiosk-reset.test.ts: `node --import tsx
 * kiosk-reset-child.ts <visit file> <binding id>` runs the real reset over the real visit file
 * and is SIGKILLed by its own binding step, right after the reset's durable outbox write and
 * before any local wipe. The relay is never called (the outbox is drained by the next start).
 */
const [file, bindingId] = process.argv.slice(2);
if (!file || !bindingId) throw new Error('usage: kiosk-reset-child.ts <visit file> <binding id>');
const log = new MemoryLogger();
const unreachable = async (): Promise<never> => {
  throw new Error('the dying process never reaches the relay');
};
const visits = await KioskVisits.open({
  store: createFileKioskVisitStore(file),
  relay: { rotateVisit: unreachable, revoke: unreachable },
  clock: systemClock,
  log,
  newVisitId: () => crypto.randomUUID(),
});
const reset = createKioskReset({
  visits,
  binding: {
    bindingId,
    forgetVisit: async () => {
      process.kill(process.pid, 'SIGKILL');
    },
  },
  purchases: { forgetQuotes: () => undefined },
  wipeStorage: async () => undefined,
  reloadWindows: () => undefined,
  log,
});
await reset();
