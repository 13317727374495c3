/**
 * Which real parts this run has. In CI (CI=true) every part must be there: a missing one fails
 * the test instead of skipping it. Elsewhere a missing part skips the tests that need it, with
 * the reason printed, so a developer sees what did not run.
 */
export interface PartAvailability {
  available: boolean;
  reason: string;
}

const inCi = process.env.CI === 'true';

function part(available: boolean, missing: string): PartAvailability {
  if (!available && inCi) throw new Error(`CI must provide ${missing}`);
  if (!available) console.warn(`[skipped] ${missing} is not available: ${hint[missing] ?? ''}`);
  return { available, reason: available ? '' : missing };
}

const hint: Record<string, string> = {
  'a D-Bus session with an unlocked keyring': 'run `npm test`, which starts a throwaway keyring in its own D-Bus session, or install dbus and gnome-keyring.',
  'PostgreSQL (TEST_DATABASE_URL)':
    'set TEST_DATABASE_URL=postgres://user@127.0.0.1:PORT/db, or run `npm test`, which starts a throwaway cluster where PostgreSQL is installed.',
};

/** The OS keychain through the Secret Service on the session bus. */
export function keychainPart(): PartAvailability {
  return part(Boolean(process.env.DBUS_SESSION_BUS_ADDRESS), 'a D-Bus session with an unlocked keyring');
}

/** A PostgreSQL server for the store tests. */
export function postgresPart(): PartAvailability & { url?: string } {
  const url = process.env.TEST_DATABASE_URL;
  return { ...part(Boolean(url), 'PostgreSQL (TEST_DATABASE_URL)'), url };
}
