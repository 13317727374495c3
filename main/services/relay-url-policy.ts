/**
 * The one rule for the relay URL a client may talk to (issue 14 §5). Enrolment sends the
 * one-time code and receives the device secret, and every answer (a QR code, a SUCCEEDED) is
 * trusted by the screen, so the connection must be private and authentic:
 * - a packaged build: `https:` only;
 * - development (unpackaged): `https:`, or plain `http:` to this machine's loopback only
 *   (127.0.0.1, ::1, localhost), where `npm start` runs the relay and nothing crosses a network.
 * A URL with user info is refused too: the credential would be sent in clear or logged.
 * `isPackaged` is Electron's `app.isPackaged`, passed in by the shell as plain data.
 */
export type RelayUrlVerdict = { readonly ok: true; readonly url: URL } | { readonly ok: false; readonly reason: string };

/** Host names that are this machine's loopback (URL.hostname keeps IPv6 in brackets). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Applies the relay URL rule to `raw` for a packaged or a development build. */
export function checkRelayUrl(raw: string, isPackaged: boolean): RelayUrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'the relay URL is not a URL' };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'the relay URL must not carry a user name or password' };
  if (url.protocol === 'https:') return { ok: true, url };
  if (url.protocol !== 'http:') return { ok: false, reason: 'the relay URL must be https://' };
  if (isPackaged) return { ok: false, reason: 'a packaged build talks to the relay over https:// only' };
  if (!LOOPBACK_HOSTS.has(url.hostname.toLowerCase())) {
    return { ok: false, reason: 'plain http:// is allowed in development only to 127.0.0.1, ::1 or localhost' };
  }
  return { ok: true, url };
}
