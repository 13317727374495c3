import { join } from 'node:path';
import { app, protocol } from 'electron';
import electronLog from 'electron-log/main';
import { electronLogSink } from '../adapters/logger.electron-log.ts';
import { createRedactingLogger } from '../adapters/logger.plain.ts';
import { launchEnvironment } from '../services/launch-environment.ts';
import { APP_SCHEME_PRIVILEGES } from '../security/app-protocol.ts';
import { type Logger, systemClock } from '../services/ports.ts';
import { startRuntime } from './app-runtime.ts';
import { createKioskUpdates, type KioskUpdates, type Updater } from './updates.ts';

/** electron-updater's autoUpdater, loaded only where it is used (a packaged kiosk): it reads app-update.yml. */
async function loadUpdater(): Promise<Updater> {
  // A CommonJS module: its exports are the default export when imported from ES modules.
  const mod = await import('electron-updater');
  return mod.default.autoUpdater;
}

/**
 * The standalone app's bootstrap (layout rule: startup only locks, hooks crashes and wires):
 * instance lock, crash hooks, the privileged scheme, then the runtime. `here` is the bundle's
 * folder (out/main).
 */
export function bootstrap(here: string): void {
  // A packaged build ignores the development variables (services/launch-environment.ts).
  const launch = launchEnvironment(app.isPackaged, process.env);
  const isDev = launch.isDev;
  if (launch.userDataDir) app.setPath('userData', launch.userDataDir);
  const mode = process.argv.includes('--kiosk') ? 'kiosk' : process.argv.includes('--overlay') ? 'overlay' : undefined;

  if (!app.requestSingleInstanceLock()) {
    app.exit(0);
  } else {
    protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
    const fatal = (error: unknown) => {
      process.stderr.write(`fatal: ${error instanceof Error ? error.message : String(error)}\n`);
      if (mode === 'kiosk') app.relaunch();
      app.exit(1);
    };
    process.on('uncaughtException', fatal);
    process.on('unhandledRejection', fatal);
    app.on('window-all-closed', () => app.quit());
    // Logs: redacted (main/services/redact.ts) before electron-log writes them to userData/logs.
    const log: Logger = createRedactingLogger(
      [electronLogSink(electronLog, { file: join(app.getPath('userData'), 'logs', 'main.log'), console: isDev })],
      isDev ? 'debug' : 'info',
    );
    let updates: KioskUpdates | null = null;
    void app
      .whenReady()
      .then(() =>
        startRuntime({
          log,
          onKioskReset: () => void updates?.onIdleReset(),
          mode,
          isDev,
          devServerUrl: launch.devServerUrl,
          rendererDir: join(here, '..', 'renderer'),
          preloadPath: join(here, '..', 'preload', 'preload.cjs'),
          version: app.getVersion(),
        }),
      )
      .then(async (runtime) => {
        app.on('before-quit', () => {
          updates?.dispose();
          runtime.dispose();
        });
        // Kiosk fleets update themselves from the electron-builder.yml publish feed (packaged builds only).
        if (runtime.mode === 'kiosk' && app.isPackaged) {
          updates = createKioskUpdates({ updater: await loadUpdater(), clock: systemClock, log, flowVisible: () => runtime.flowVisible() });
          updates.start();
        }
      })
      .catch(fatal);
  }
}
