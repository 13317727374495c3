import { readFile, realpath } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { Protocol } from 'electron';
import { APP_HOST, APP_SCHEME } from './app-origin.ts';

/** Passed to `protocol.registerSchemesAsPrivileged` before `ready`. */
export const APP_SCHEME_PRIVILEGES = Object.freeze({
  scheme: APP_SCHEME,
  privileges: Object.freeze({
    standard: true,
    secure: true,
    supportFetchAPI: false,
    corsEnabled: false,
    stream: false,
    bypassCSP: false,
    allowServiceWorkers: false,
    codeCache: true,
  }),
});

const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
});

/**
 * Maps an app:// URL to a file under `rootDir`, or null when it must not be served: another
 * scheme or host, credentials, malformed escapes, NUL bytes, backslashes, encoded separators,
 * `..` that climbs out of the root, or an extension we do not serve. Pure; no file access.
 */
export function resolveAppAsset(rootDir: string, requestUrl: string): string | null {
  let u: URL;
  try {
    u = new URL(requestUrl);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST || u.username || u.password) return null;
  // Look at the raw path: encoded slashes, backslashes and dots are never part of our file names.
  if (/%2f|%5c|%2e|%00|\\/i.test(u.pathname)) return null;
  let path: string;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  if (path === '/' || path === '') path = '/index.html';
  const root = resolve(rootDir);
  const full = resolve(root, `.${path}`);
  if (!full.startsWith(root + sep)) return null;
  if (!Object.hasOwn(CONTENT_TYPES, extname(full).toLowerCase())) return null;
  return full;
}

/** Options of the app:// handler. */
export interface AppProtocolOptions {
  /** The built renderer (out/renderer). */
  readonly rootDir: string;
  /** The Content-Security-Policy sent with every response. */
  readonly csp: string;
}

function refuse(status: number): Response {
  return new Response(null, { status, headers: { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' } });
}

/**
 * The app:// request handler (window rule: only app:// pages, path traversal refused): GET and
 * HEAD only, files under the root only (symlinks resolved and checked again), with the CSP and
 * hardening headers on every answer.
 */
export function createAppProtocolHandler(options: AppProtocolOptions): (request: Request) => Promise<Response> {
  const rootPromise = realpath(resolve(options.rootDir)).catch(() => resolve(options.rootDir));
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405);
    const file = resolveAppAsset(options.rootDir, request.url);
    if (!file) return refuse(404);
    const root = await rootPromise;
    let real: string;
    try {
      real = await realpath(file);
    } catch {
      return refuse(404);
    }
    if (!real.startsWith(root + sep)) return refuse(404);
    const body = await readFile(real);
    return new Response(request.method === 'HEAD' ? null : body, {
      status: 200,
      headers: {
        'Content-Type': CONTENT_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream',
        'Content-Security-Policy': options.csp,
        'X-Content-Type-Options': 'nosniff',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Resource-Policy': 'same-origin',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-cache',
      },
    });
  };
}

/** Registers the app:// handler on a session's protocol object (after `ready`). */
export function registerAppProtocol(protocol: Protocol, options: AppProtocolOptions): void {
  protocol.handle(APP_SCHEME, createAppProtocolHandler(options));
}
