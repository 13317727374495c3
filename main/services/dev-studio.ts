import type { RelayHttp } from './ports.ts';
import type { PlayerAssertionProvider } from './relay/relay-api.ts';

/** Where `npm start`'s demo studio mints player assertions (handover `devStudio`). */
export interface DevStudio {
  /** Loopback URL of the demo studio's `POST /player-assertion`. */
  readonly url: string;
  /** Bearer token of that endpoint (only the handover file carries it). */
  readonly token: string;
}

/**
 * The development stand-in for a studio's game server: asks `npm start`'s demo studio for a
 * fresh, device-pinned assertion each time the relay client needs one, so the demo keeps its
 * player past the relay's short assertion lifetime without a restart. Null on any failure (the
 * relay then answers PLAYER_UNAUTHORIZED, which the UI shows).
 */
export function devStudioAssertions(studio: DevStudio, http: RelayHttp): PlayerAssertionProvider {
  return async ({ deviceId }) => {
    try {
      const res = await http.request({
        method: 'POST',
        url: studio.url,
        headers: { authorization: `Bearer ${studio.token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ deviceId }),
        timeoutMs: 5_000,
      });
      if (res.status !== 200) return null;
      const assertion = (JSON.parse(res.body) as { assertion?: unknown }).assertion;
      return typeof assertion === 'string' && assertion.length <= 8192 ? assertion : null;
    } catch {
      return null;
    }
  };
}
