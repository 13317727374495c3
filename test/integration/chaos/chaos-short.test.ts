import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatTable, runRow } from '../../../chaos/matrix.ts';
import { allRows } from '../../../chaos/rows/index.ts';
import { engines } from '../../../relay/test/support/env.ts';

/*
 * The short chaos matrix inside `npm test`: one row per family (provider fault, notification,
 * client attack, race, crash, keychain) on both engines where PostgreSQL is available, and the fuzzers
 * (1,000 inputs per relay endpoint and IPC channel) on SQLite. `npm run chaos` runs all rows.
 */
const SHORT: Array<[string, ('sqlite' | 'postgres')[]]> = [
  ['provider U then S', ['sqlite', 'postgres']],
  ['notify duplicate', ['sqlite', 'postgres']],
  ['client tampered price/sku/binding', ['sqlite']],
  ['revoke racing pay', ['postgres', 'sqlite']],
  ['SIGKILL after S, before commit', ['sqlite']],
  ['fuzz IPC channels', ['sqlite']],
  ['fuzz relay endpoints', ['sqlite']],
  ['keychain locked', ['sqlite']],
  // Issue 14: a kiosk reset that cannot reach the relay, and Antom's unsigned refusal of a pay.
  ['kiosk reset with the relay down', ['sqlite']],
  ['antom unsigned refusal', ['sqlite']],
];

// The keychain row needs a D-Bus daemon and gnome-keyring (CI installs both; .ci/run).
const noKeyring =
  process.env.CI !== 'true' && !(existsSync('/usr/bin/dbus-daemon') && existsSync('/usr/bin/gnome-keyring-daemon'))
    ? 'dbus-daemon or gnome-keyring-daemon is not installed'
    : undefined;

describe('chaos matrix (short)', () => {
  for (const [name, wanted] of SHORT) {
    const row = allRows.find((r) => r.name === name);
    for (const e of engines().filter((x) => wanted.includes(x.name))) {
      const skip = e.skip ?? (row?.family === 'keychain' ? noKeyring : undefined);
      it.skipIf(Boolean(skip))(
        `${name} [${e.name}]${skip ? ` (skipped: ${skip})` : ''}`,
        async () => {
          expect(row, `row ${name}`).toBeDefined();
          const result = await runRow(row as NonNullable<typeof row>, e.name, { short: true });
          expect(result.failures, formatTable([result])).toEqual([]);
          expect(result.held).toBe(result.runs);
        },
        90_000,
      );
    }
  }
});
