import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createKioskUpdates, type Updater } from '../../../../main/platform/updates.ts';
import { FakeClock } from '../../../fakes/fake-clock.ts';
import { MemoryLogger } from '../../../fakes/memory-stores.ts';

function setup(flow = { visible: false }) {
  const emitter = new EventEmitter();
  const calls: string[] = [];
  const updater = {
    autoDownload: false,
    autoInstallOnAppQuit: true,
    logger: null,
    on: (event: string, fn: (...a: unknown[]) => void) => emitter.on(event, fn),
    checkForUpdates: async () => {
      calls.push('check');
      return null;
    },
    quitAndInstall: (silent?: boolean, forceRunAfter?: boolean) => {
      calls.push(`install ${silent} ${forceRunAfter}`);
    },
  };
  const clock = new FakeClock();
  const updates = createKioskUpdates({
    updater: updater as unknown as Updater,
    clock,
    log: new MemoryLogger(),
    flowVisible: () => flow.visible,
    intervalHours: 4,
  });
  return { updater, updates, calls, clock, emitter, flow };
}

describe('kiosk updates (electron-updater)', () => {
  it('downloads in the background but never installs on quit', () => {
    const { updater } = setup();
    expect(updater.autoDownload).toBe(true);
    expect(updater.autoInstallOnAppQuit).toBe(false);
    expect(updater.logger).not.toBeNull();
  });

  it('checks at start and every interval, only while no flow is visible', async () => {
    const { updates, calls, clock, flow } = setup();
    updates.start();
    await clock.advance(0);
    expect(calls).toEqual(['check']);
    await clock.advance(4 * 3_600_000 - 1);
    expect(calls).toEqual(['check']);
    flow.visible = true;
    await clock.advance(1);
    expect(calls).toEqual(['check']); // deferred: a customer is in a flow
    await clock.advance(5 * 60_000);
    expect(calls).toEqual(['check']);
    flow.visible = false;
    await clock.advance(5 * 60_000);
    expect(calls).toEqual(['check', 'check']);
    updates.dispose();
    await clock.advance(24 * 3_600_000);
    expect(calls).toEqual(['check', 'check']);
  });

  it('does not check at start while a flow is visible', async () => {
    const { updates, calls, clock } = setup({ visible: true });
    updates.start();
    await clock.advance(60_000);
    expect(calls).toEqual([]);
  });

  it('installs a downloaded update at the next idle reset, not before', async () => {
    const { updates, calls, emitter, clock } = setup();
    expect(updates.onIdleReset()).toBe(false);
    emitter.emit('update-downloaded', { version: '0.2.0' });
    expect(updates.ready).toBe(true);
    updates.start();
    await clock.advance(5 * 3_600_000);
    expect(calls).toEqual([]); // one update at a time
    expect(updates.onIdleReset()).toBe(true);
    expect(calls).toEqual(['install true true']);
  });

  it('a failed check is logged and retried at the next interval', async () => {
    const { updates, updater, clock, calls } = setup();
    updater.checkForUpdates = async () => {
      calls.push('check');
      throw new Error('feed unreachable');
    };
    updates.start();
    await clock.advance(0);
    await clock.advance(4 * 3_600_000);
    expect(calls).toEqual(['check', 'check']);
  });
});
