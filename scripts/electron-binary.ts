import { accessSync, constants, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The Electron executable `npm start` and the `_electron` tests launch, or null when none is
 * installed (the electron package ships without its binary until its download succeeds).
 * Order: ELECTRON_OVERRIDE_DIST_PATH (electron's own override), then the binary the electron
 * package records in path.txt. Never imports `electron` (that throws when the binary is missing).
 */
export function findElectronBinary(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates: string[] = [];
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const name = process.platform === 'win32' ? 'electron.exe' : process.platform === 'darwin' ? 'Electron.app/Contents/MacOS/Electron' : 'electron';
    candidates.push(join(override, name));
  }
  try {
    const pkg = createRequire(import.meta.url).resolve('electron/package.json');
    const dir = dirname(pkg);
    const rel = readFileSync(join(dir, 'path.txt'), 'utf8').trim();
    if (rel) candidates.push(join(dir, 'dist', rel));
  } catch {
    // electron not installed, or installed without its binary (no path.txt)
  }
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not there or not executable
    }
  }
  return null;
}

/** The one line `npm start` prints when there is no binary. */
export const NO_ELECTRON_MESSAGE =
  'Electron is not installed (its binary could not be downloaded): run `npx electron --version` on a machine with network access to fetch it (or set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron 45 build), then `npm start` again.';
