/**
 * The one origin our pages load from. `app://app/…` is a privileged standard scheme
 * registered before `ready` (see app-protocol.ts); the dev-server origin is accepted only
 * when main runs in development and was given one.
 */
export const APP_SCHEME = 'app';
/** The host part of every app URL; there is exactly one. */
export const APP_HOST = 'app';
/** The renderer's entry document. */
export const APP_ENTRY = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** Where the pages come from: always app://, plus the dev server in development only. */
export interface OriginPolicy {
  /** e.g. `http://127.0.0.1:5173`; null or undefined outside development. */
  readonly devServerUrl?: string | null;
}

function parse(url: string): URL | null {
  if (typeof url !== 'string' || url.length > 8192) return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * True when `url` is one of our own pages. The comparison is on parsed parts, never on a
 * string prefix, so `app://app.evil.test`, `app://app@evil.test` or a dev-server look-alike
 * such as `http://127.0.0.1:51730` do not pass. Node gives non-special schemes an opaque
 * `origin` ("null"), so the protocol and host are compared instead.
 */
export function isAppUrl(url: string, policy: OriginPolicy = {}): boolean {
  const u = parse(url);
  if (!u) return false;
  if (u.username || u.password) return false;
  if (u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST) return true;
  const dev = policy.devServerUrl ? parse(policy.devServerUrl) : null;
  if (!dev) return false;
  return u.protocol === dev.protocol && u.host === dev.host && (u.protocol === 'http:' || u.protocol === 'https:');
}

/** The URL a window loads for a route: the app entry (or the dev server) plus a hash route. */
export function appUrlFor(route: string, policy: OriginPolicy = {}): string {
  const hash = route.startsWith('#') ? route : `#/${route.replace(/^\/+/, '')}`;
  const base = policy.devServerUrl ? new URL('/', policy.devServerUrl).href : APP_ENTRY;
  return `${base}${hash}`;
}
