/**
 * What the environment may change about a launch, decided once from Electron's
 * `app.isPackaged` and the process environment (plain data, so it is unit-tested without
 * Electron). The variables are development tools of `npm start` and the tests: in a packaged
 * build any process that starts the app could set them (issue 14 §5), to hand it a relay URL
 * and enrolment (SCAN_TO_BIND_HANDOVER), move its data and logs (SCAN_TO_BIND_USER_DATA) or
 * load its pages from elsewhere (VITE_DEV_SERVER_URL), so a packaged build ignores them all.
 */
export interface LaunchEnvironment {
  /** Development mode: unpackaged and NODE_ENV=development (dev tools, debug logs, dev server). */
  readonly isDev: boolean;
  /** SCAN_TO_BIND_USER_DATA: the user-data dir instead of Electron's default (unpackaged only). */
  readonly userDataDir: string | null;
  /** SCAN_TO_BIND_HANDOVER: the `npm start` handover file (unpackaged only). */
  readonly handoverPath: string | null;
  /** VITE_DEV_SERVER_URL: the renderer dev server (development only). */
  readonly devServerUrl: string | null;
}

/** Decides the launch environment of a packaged or unpackaged build from `env`. */
export function launchEnvironment(isPackaged: boolean, env: Readonly<Record<string, string | undefined>>): LaunchEnvironment {
  if (isPackaged) return { isDev: false, userDataDir: null, handoverPath: null, devServerUrl: null };
  const isDev = env['NODE_ENV'] === 'development';
  const value = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v === '' ? null : v;
  };
  return {
    isDev,
    userDataDir: value('SCAN_TO_BIND_USER_DATA'),
    handoverPath: value('SCAN_TO_BIND_HANDOVER'),
    devServerUrl: isDev ? value('VITE_DEV_SERVER_URL') : null,
  };
}
