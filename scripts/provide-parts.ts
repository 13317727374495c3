import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterSkip, type PgCluster, startCluster } from '../test/support/pg-cluster.ts';
import type { Step } from './run-steps.ts';

/**
 * The real parts `npm test` needs, provided when the caller did not: PostgreSQL (a throwaway
 * cluster when TEST_DATABASE_URL is unset and the server binaries exist), the OS keychain (the
 * test steps run in their own dbus-run-session with a throwaway gnome-keyring in fresh XDG
 * folders when no unlocked Secret Service answers), and Chromium (CHROMIUM_PATH, the system's,
 * or Playwright's cache). What cannot be provided is named once, with its install command; the
 * tests that need it then skip with the reason printed (or fail under CI=true).
 */
export interface RealParts {
  /** Environment for every test step (TEST_DATABASE_URL, CHROMIUM_PATH). */
  env: Record<string, string>;
  /** The step as it must run: inside its own keyring session when the keychain is provided. */
  wrap(step: Step): Step;
  /** One line per part provided or missing. */
  summary: string[];
  /** Stops and removes what was started. */
  stop(): Promise<void>;
}

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** True when keytar can store and delete a secret in this process's session right now. */
function keychainAnswers(): boolean {
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) return false;
  const probe = `const k=require('keytar');k.setPassword('scan-to-bind-probe','p','x').then(()=>k.deletePassword('scan-to-bind-probe','p')).then(()=>process.exit(0),()=>process.exit(1))`;
  return spawnSync(process.execPath, ['-e', probe], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

function keytarInstalled(): boolean {
  return spawnSync(process.execPath, ['-e', "require('keytar')"], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

/** Chromium for Playwright: CHROMIUM_PATH, the system's, or a browser in Playwright's cache. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env.CHROMIUM_PATH;
  if (given) return existsSync(given) ? given : undefined;
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) if (existsSync(p)) return p;
  const cache = env.PLAYWRIGHT_BROWSERS_PATH ?? join(homedir(), '.cache', 'ms-playwright');
  if (!existsSync(cache)) return undefined;
  for (const dir of readdirSync(cache)
    .filter((d) => d.startsWith('chromium'))
    .sort()
    .reverse()) {
    for (const sub of ['chrome-linux64/chrome', 'chrome-linux/chrome']) if (existsSync(join(cache, dir, sub))) return join(cache, dir, sub);
  }
  return undefined;
}

const INSTALL = {
  postgres: 'sudo apt-get install -y postgresql (Fedora: sudo dnf install -y postgresql-server)',
  keyring: 'sudo apt-get install -y dbus dbus-user-session gnome-keyring (Fedora: sudo dnf install -y dbus-daemon gnome-keyring)',
  libsecret: 'sudo apt-get install -y libsecret-1-dev pkg-config, then npm ci (Fedora: libsecret-devel)',
  chromium: 'sudo apt-get install -y chromium (Fedora: sudo dnf install -y chromium)',
};

/** Provides what is missing; call `stop()` when the tests are done. */
export async function provideRealParts(): Promise<RealParts> {
  const env: Record<string, string> = {};
  const summary: string[] = [];
  const missing: string[] = [];
  let cluster: PgCluster | undefined;
  const work = mkdtempSync(join(tmpdir(), 'stb-test-'));

  if (process.env.TEST_DATABASE_URL) summary.push('PostgreSQL: TEST_DATABASE_URL as given');
  else {
    const skip = clusterSkip();
    if (skip) missing.push(`PostgreSQL (${skip}): ${INSTALL.postgres}`);
    else {
      cluster = await startCluster({ maxConnections: 200 });
      env.TEST_DATABASE_URL = cluster.url;
      summary.push(`PostgreSQL: a throwaway cluster at ${cluster.url.replace(/^postgres:\/\/[^@]*@/u, '')}, removed afterwards`);
    }
  }

  let keyring = false;
  if (!keytarInstalled()) missing.push(`the OS keychain library (keytar was not built): ${INSTALL.libsecret}`);
  else if (keychainAnswers()) summary.push('keychain: the Secret Service of this session');
  else if (has('dbus-run-session') && has('gnome-keyring-daemon')) {
    keyring = true;
    summary.push('keychain: a throwaway gnome-keyring in its own D-Bus session per test step');
  } else missing.push(`a D-Bus session with an unlocked keyring: ${INSTALL.keyring}`);

  const chromium = findChromium();
  if (chromium) {
    env.CHROMIUM_PATH = chromium;
    summary.push(`Chromium: ${chromium}`);
  } else missing.push(`Chromium: ${INSTALL.chromium}`);

  if (missing.length > 0) summary.push(`missing (the tests that need it skip, or fail under CI=true): ${missing.join('; ')}`);

  let n = 0;
  return {
    env,
    summary,
    wrap(step) {
      if (!keyring) return step;
      // Fresh XDG folders: an old keyring with another password refuses new items.
      const xdg = join(work, `xdg-${++n}`);
      const dirs = {
        XDG_DATA_HOME: join(xdg, 'data'),
        XDG_RUNTIME_DIR: join(xdg, 'runtime'),
        XDG_CACHE_HOME: join(xdg, 'cache'),
        XDG_CONFIG_HOME: join(xdg, 'config'),
      };
      for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true, mode: 0o700 });
      const script = 'printf scan-to-bind | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$@"';
      return { ...step, command: 'dbus-run-session', args: ['--', 'sh', '-c', script, 'sh', step.command, ...step.args], env: { ...step.env, ...dirs } };
    },
    async stop() {
      await cluster?.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
