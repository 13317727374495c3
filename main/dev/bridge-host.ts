import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { EVENT_CHANNELS, INVOKE_CHANNELS } from '@scan-to-bind/shared/ipc/channels';
import { PRODUCTION_CSP_DIRECTIVES } from '../security/csp.ts';
import { installBridge } from './bridge-shim.ts';
import type { BrowserMain } from './browser-main.ts';

/** The cookie that carries the per-run secret (HttpOnly, SameSite=Strict, set by the fixture). */
export const BRIDGE_COOKIE = 'stb_bridge';
/** The header alternative (for requests made outside the page). */
export const BRIDGE_HEADER = 'x-bridge-secret';

/**
 * The production CSP with exactly one difference: `connect-src 'self'` instead of `'none'`,
 * because the bridge is HTTP on the page's own origin here where Electron uses IPC.
 */
export const HOST_CSP = Object.entries({ ...PRODUCTION_CSP_DIRECTIVES, 'connect-src': ["'self'"] })
  .map(([name, values]) => `${name} ${values.join(' ')}`)
  .join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

/** A running bridge host. */
export interface BridgeHost {
  readonly url: string;
  /**
   * The address a person opens: it sets the secret as an HttpOnly cookie on the host's origin
   * and redirects to the page, so the secret never has to be typed or stored by the page.
   */
  readonly enterUrl: string;
  readonly secret: string;
  /** Open event streams (pages connected). */
  readonly streams: number;
  close(): Promise<void>;
}

/** How the host presents the renderer. */
export interface BridgeHostOptions {
  /**
   * The browser preview's notice: shown in the document title and as a bar at the top of every
   * page, so nobody mistakes the preview for the app (the e2e suite runs without it).
   */
  readonly previewNotice?: string;
  /** The route `enterUrl` leads to (`#/kiosk`, `#/overlay`; default the main window's `#/`). */
  readonly route?: string;
}

/** The preview notice bar: fixed at the top, never in the way of a click. */
const PREVIEW_CSS = `.stb-preview-notice{position:fixed;top:0;left:50%;transform:translateX(-50%);z-index:2147483647;pointer-events:none;
font:600 12px/1.6 system-ui,sans-serif;background:#7a3e00;color:#fff;padding:2px 12px;border-radius:0 0 6px 6px}`;

/**
 * Serves the built renderer (out/renderer) and the bridge to it over loopback:
 * `POST /__bridge/invoke/<channel>` (JSON input → `{ok,value}|{ok,code}`) and
 * `GET /__bridge/events` (Server-Sent Events of the contract's events). Both demand the
 * run's random secret (cookie or header): anything else gets 403.
 */
export async function startBridgeHost(
  main: Pick<BrowserMain, 'invoke' | 'addTarget' | 'onReload'>,
  rendererDir: string,
  options: BridgeHostOptions = {},
): Promise<BridgeHost> {
  const secret = randomBytes(32).toString('base64url');
  const invokeChannels = new Set<string>(Object.values(INVOKE_CHANNELS));
  // Under tsx (npm start) esbuild's keepNames wraps functions in a `__name` helper that a
  // serialised function carries along: the page gets a no-op one.
  const shim = `var __name = (fn) => fn;\n(${installBridge.toString()})(${JSON.stringify(INVOKE_CHANNELS)}, ${JSON.stringify(EVENT_CHANNELS)});\n`;
  const page = readFileSync(join(rendererDir, 'index.html'), 'utf8')
    .replace(/connect-src 'none'/, "connect-src 'self'")
    .replace('<script', '<script src="./__bridge/shim.js"></script>\n    <script');
  const notice = options.previewNotice;
  const html = notice
    ? page
        .replace(/<title>([^<]*)<\/title>/, (_whole, title: string) => `<title>${escapeHtml(notice)} · ${title}</title>`)
        .replace('</head>', '<link rel="stylesheet" href="./__bridge/preview.css" />\n  </head>')
        .replace(/<body([^>]*)>/, (whole) => `${whole}\n    <div class="stb-preview-notice" role="note">${escapeHtml(notice)}</div>`)
    : page;
  let streams = 0;
  let origin = '';

  const authorised = (req: IncomingMessage): boolean => {
    const header = req.headers[BRIDGE_HEADER];
    const cookie = (req.headers.cookie ?? '')
      .split(';')
      .map((c) => c.trim().split('='))
      .find(([k]) => k === BRIDGE_COOKIE)?.[1];
    const given = typeof header === 'string' ? header : cookie;
    if (!given || given.length !== secret.length) return false;
    if (!timingSafeEqual(Buffer.from(given), Buffer.from(secret))) return false;
    // A cross-origin page never gets in, even with the cookie.
    const from = req.headers.origin;
    return from === undefined || from === origin;
  };

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-security-policy': HOST_CSP });
    res.end(body);
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', origin);
      const path = url.pathname;
      if (path.startsWith('/__bridge/invoke/') || path === '/__bridge/events') {
        if (!authorised(req)) return send(res, 403, 'text/plain', 'forbidden');
      }
      if (path.startsWith('/__bridge/invoke/') && req.method === 'POST') {
        const channel = decodeURIComponent(path.slice('/__bridge/invoke/'.length));
        if (!invokeChannels.has(channel)) return send(res, 404, 'text/plain', 'no such channel');
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const c of req) {
          size += (c as Buffer).length;
          if (size > 64 * 1024) return send(res, 413, 'text/plain', 'too large');
          chunks.push(c as Buffer);
        }
        const text = Buffer.concat(chunks).toString('utf8');
        let args: unknown[];
        try {
          args = text === '' ? [] : [JSON.parse(text)];
        } catch {
          return send(res, 200, 'application/json', JSON.stringify({ ok: false, code: 'INVALID_INPUT' }));
        }
        try {
          const result = await main.invoke(channel, args);
          return send(res, 200, 'application/json', JSON.stringify(result));
        } catch {
          return send(res, 403, 'text/plain', 'sender refused');
        }
      }
      if (path === '/__bridge/events' && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(': connected\n\n');
        streams++;
        let open = true;
        const removeTarget = main.addTarget({
          id: streams,
          isDestroyed: () => !open,
          send: (channel, payload) => res.write(`event: ${channel}\ndata: ${JSON.stringify(payload)}\n\n`),
        });
        const removeReload = main.onReload(() => res.write('event: host:reload\ndata: {}\n\n'));
        req.on('close', () => {
          open = false;
          streams--;
          removeTarget();
          removeReload();
        });
        return;
      }
      if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed');
      if (path === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
      if (path === '/__bridge/shim.js') return send(res, 200, TYPES['.js'] as string, shim);
      if (path === '/__bridge/preview.css' && notice) return send(res, 200, 'text/css; charset=utf-8', PREVIEW_CSS);
      if (path === '/__bridge/enter') {
        const given = url.searchParams.get('k') ?? '';
        if (given.length !== secret.length || !timingSafeEqual(Buffer.from(given), Buffer.from(secret))) return send(res, 403, 'text/plain', 'forbidden');
        res.writeHead(303, {
          'set-cookie': `${BRIDGE_COOKIE}=${secret}; HttpOnly; SameSite=Strict; Path=/`,
          location: `/${options.route ?? '#/'}`,
          'cache-control': 'no-store',
          'referrer-policy': 'no-referrer',
        });
        return res.end();
      }
      if (path === '/' || path === '/index.html') return send(res, 200, TYPES['.html'] as string, html);
      const file = normalize(join(rendererDir, decodeURIComponent(path)));
      if (!file.startsWith(rendererDir + sep)) return send(res, 404, 'text/plain', 'not found');
      try {
        return send(res, 200, TYPES[extname(file)] ?? 'application/octet-stream', readFileSync(file));
      } catch {
        return send(res, 404, 'text/plain', 'not found');
      }
    })().catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain', 'host error');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('host has no port');
  origin = `http://127.0.0.1:${address.port}`;
  return {
    url: origin,
    enterUrl: `${origin}/__bridge/enter?k=${secret}`,
    secret,
    get streams() {
      return streams;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
