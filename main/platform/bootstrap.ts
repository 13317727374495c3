import { join } from 'node:path';
import { app, protocol } from 'electron';
import { startRuntime } from './app-runtime.ts';
import { APP_SCHEME_PRIVILEGES } from '../security/app-protocol.ts';

/**
 * The standalone app's bootstrap (STYLE.md): instance lock, crash hooks, the privileged
 * scheme, then the runtime. `here` is the bundle's folder (out/main).
 */
export function bootstrap(here: string): void {
  const isDev = !app.isPackaged && process.env.NODE_ENV === 'development';
  if (process.env.SCAN_TO_BIND_USER_DATA) app.setPath('userData', process.env.SCAN_TO_BIND_USER_DATA);
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
    void app
      .whenReady()
      .then(() =>
        startRuntime({
          mode,
          isDev,
          devServerUrl: isDev ? (process.env.VITE_DEV_SERVER_URL ?? null) : null,
          rendererDir: join(here, '..', 'renderer'),
          preloadPath: join(here, '..', 'preload', 'preload.cjs'),
          version: app.getVersion(),
        }),
      )
      .then((runtime) => app.on('before-quit', () => runtime.dispose()))
      .catch(fatal);
  }
}
