import type { WebContents } from 'electron';
import { isAppUrl, type OriginPolicy } from './app-origin.ts';

/** A minimal log sink, so guards can report what they refused without knowing the logger. */
export type GuardLog = (message: string, fields: Record<string, unknown>) => void;

/**
 * True when an external link may be opened in the system browser: https only, no
 * credentials, default port, and a host that equals an allowlisted host exactly (so
 * `relay.example.com.evil.test` and `evil-relay.example.com` do not pass).
 */
export function isAllowedExternalUrl(url: string, allowedHosts: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'https:' || u.username || u.password || u.port !== '') return false;
  const host = u.hostname.toLowerCase();
  return allowedHosts.some((h) => h.toLowerCase() === host);
}

/** The single door to the system browser: checks the allowlist, then calls `shell.openExternal`. */
export function createOpenExternal(open: (url: string) => Promise<void>, allowedHosts: readonly string[], log: GuardLog): (url: string) => Promise<boolean> {
  return async (url) => {
    if (!isAllowedExternalUrl(url, allowedHosts)) {
      log('openExternal refused', { url: url.slice(0, 200) });
      return false;
    }
    await open(url);
    return true;
  };
}

/** True when a navigation of one of our frames may go ahead: only within our own origin. */
export function isAllowedNavigation(url: string, policy: OriginPolicy): boolean {
  return isAppUrl(url, policy);
}

/** What the guards need besides the web contents. */
export interface GuardOptions extends OriginPolicy {
  readonly openExternal: (url: string) => Promise<boolean>;
  readonly log: GuardLog;
}

/**
 * Window rule, navigation (and no webviews): navigation and redirects leave the app
 * origin never (main frame and sub-frames alike), window.open is always denied (an https
 * link is handed to the allowlisted openExternal instead), and webviews cannot attach.
 */
export function installNavigationGuards(contents: WebContents, options: GuardOptions): void {
  const refuse = (kind: string, url: string, prevent: () => void) => {
    if (isAllowedNavigation(url, options)) return;
    prevent();
    options.log('navigation refused', { kind, url: url.slice(0, 200) });
  };
  contents.on('will-navigate', (event) => refuse('will-navigate', event.url, () => event.preventDefault()));
  contents.on('will-frame-navigate', (event) => refuse('will-frame-navigate', event.url, () => event.preventDefault()));
  contents.on('will-redirect', (event) => refuse('will-redirect', event.url, () => event.preventDefault()));
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    options.log('webview refused', {});
  });
  contents.setWindowOpenHandler((details) => {
    if (details.url.startsWith('https:')) void options.openExternal(details.url);
    else options.log('window.open refused', { url: details.url.slice(0, 200) });
    return { action: 'deny' };
  });
}
