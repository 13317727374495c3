/**
 * The Content-Security-Policy of every page (window rule: a strict CSP, no network from pages).
 * The app:// handler sends it as a header on every document; renderer/index.html repeats it in a
 * meta tag. `connect-src 'none'`: the renderer never talks to the network, all I/O goes via IPC.
 */
export const PRODUCTION_CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
  'object-src': ["'none'"],
});

function serialise(directives: Readonly<Record<string, readonly string[]>>): string {
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join('; ');
}

/** The production policy as a header value. */
export const PRODUCTION_CSP = serialise(PRODUCTION_CSP_DIRECTIVES);

/**
 * The policy for a build. In development (a Vite dev server URL is given) it adds only what
 * the dev server needs: its origin for scripts, styles, images and fonts, Vite's injected
 * `<style>` tags, and its HMR websocket. Nothing is added in production.
 */
export function buildCsp(options: { devServerUrl?: string | null } = {}): string {
  if (!options.devServerUrl) return PRODUCTION_CSP;
  const dev = new URL(options.devServerUrl);
  if (dev.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(dev.hostname)) {
    throw new Error('the dev server must be on loopback http');
  }
  const origin = dev.origin;
  const ws = `ws://${dev.host}`;
  const d: Record<string, readonly string[]> = { ...PRODUCTION_CSP_DIRECTIVES };
  d['script-src'] = ["'self'", origin];
  d['style-src'] = ["'self'", origin, "'unsafe-inline'"];
  d['img-src'] = ["'self'", 'data:', origin];
  d['font-src'] = ["'self'", origin];
  d['connect-src'] = [origin, ws];
  return serialise(d);
}
