import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { findChromium } from './provide-parts.ts';

/** True when a window can be shown: a desktop OS, or an X11/Wayland display on Linux. */
export function hasDisplay(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/**
 * Opens `url` for a person to use: Chromium as an app window with a profile of its own (so the
 * preview's cookie never mixes with the user's browsing), else the system's default browser.
 * Without a display it only says where to go. Never waits for the browser.
 */
export function openBrowser(url: string, profileDir: string): void {
  if (!hasDisplay()) {
    console.log('no display here: open the address above in a browser on this machine.');
    return;
  }
  const chromium = findChromium();
  let command: string;
  let args: string[];
  if (chromium) {
    mkdirSync(profileDir, { recursive: true, mode: 0o700 });
    command = chromium;
    args = [`--app=${url}`, `--user-data-dir=${profileDir}`, '--no-first-run', '--disable-background-networking', '--disable-sync'];
  } else if (process.platform === 'darwin') [command, args] = ['open', [url]];
  else if (process.platform === 'win32') [command, args] = ['cmd', ['/c', 'start', '', url]];
  else [command, args] = ['xdg-open', [url]];
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => console.log(`could not open a browser (${command}): open the address above yourself.`));
  child.unref();
}
