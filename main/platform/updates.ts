import type { AppUpdater } from 'electron-updater';
import type { Clock, Logger } from '../services/ports.ts';

/** The part of electron-updater's AppUpdater the kiosk updates use. */
export type Updater = Pick<AppUpdater, 'checkForUpdates' | 'quitAndInstall' | 'on' | 'autoDownload' | 'autoInstallOnAppQuit' | 'logger'>;

/** What kiosk updates need. */
export interface KioskUpdatesDeps {
  readonly updater: Updater;
  readonly clock: Clock;
  readonly log: Logger;
  /** True while a customer sees a flow (a QR, a purchase, a visit in progress): no check then. */
  readonly flowVisible: () => boolean;
  /** Hours between checks (default 6). */
  readonly intervalHours?: number;
  /** Delay before retrying a check that a visible flow deferred (default 5 min). */
  readonly deferMs?: number;
}

/** The running update schedule. */
export interface KioskUpdates {
  /** First check now (or as soon as no flow is visible), then every interval. */
  start(): void;
  /** Called by the idle reset: installs a downloaded update (restarting the app); true when it did. */
  onIdleReset(): boolean;
  /** True once an update waits for the next idle reset. */
  readonly ready: boolean;
  dispose(): void;
}

/**
 * electron-updater for kiosk fleets. The feed is the `publish` section of
 * electron-builder.yml, which electron-builder writes into the package as app-update.yml, so
 * nothing here names a URL. Checks run at start and every few hours, but only when no flow is
 * visible; the download runs in the background and is installed at the next idle reset,
 * never in the middle of a visit (and not silently on quit: a kiosk quits only to relaunch).
 */
export function createKioskUpdates(d: KioskUpdatesDeps): KioskUpdates {
  const interval = (d.intervalHours ?? 6) * 3_600_000;
  const defer = d.deferMs ?? 5 * 60_000;
  let timer: unknown = null;
  let ready = false;
  let disposed = false;
  let checking = false;

  d.updater.autoDownload = true;
  d.updater.autoInstallOnAppQuit = false;
  d.updater.logger = {
    info: (m?: unknown) => d.log.info('updater', { detail: String(m) }),
    warn: (m?: unknown) => d.log.warn('updater', { detail: String(m) }),
    error: (m?: unknown) => d.log.error('updater', { detail: String(m) }),
    debug: (m: string) => d.log.debug('updater', { detail: m }),
  };
  d.updater.on('update-downloaded', (info) => {
    ready = true;
    d.log.info('update downloaded; installing at the next idle reset', { version: info.version });
  });
  d.updater.on('error', (error) => d.log.warn('update check failed', { error: String(error) }));

  const arm = (ms: number) => {
    if (disposed) return;
    if (timer !== null) d.clock.clearTimeout(timer);
    timer = d.clock.setTimeout(() => {
      timer = null;
      void check();
    }, ms);
  };

  const check = async () => {
    if (disposed) return;
    if (ready) return; // one update at a time; the reset installs it
    if (d.flowVisible()) {
      arm(defer);
      return;
    }
    if (!checking) {
      checking = true;
      try {
        await d.updater.checkForUpdates();
      } catch (error) {
        d.log.warn('update check failed', { error: String(error) });
      } finally {
        checking = false;
      }
    }
    arm(interval);
  };

  return {
    start: () => void check(),
    onIdleReset() {
      if (!ready || disposed) return false;
      d.log.info('installing the downloaded update at the idle reset', {});
      d.updater.quitAndInstall(true, true);
      return true;
    },
    get ready() {
      return ready;
    },
    dispose() {
      disposed = true;
      if (timer !== null) d.clock.clearTimeout(timer);
      timer = null;
    },
  };
}
