/**
 * The page-side half of the bridge: defines `window.api` with the shape preload/bridge.ts
 * gives it in Electron — one named function per invoke channel, one `onX(listener)` per event
 * returning its unsubscribe, frozen, no generic invoke. Requests go to the test host on the
 * page's own origin; the per-run secret travels as an HttpOnly cookie the page cannot read.
 *
 * Serialised with `toString()` into a classic script served from the host's origin, so it
 * must not reference anything outside its own body.
 */
export function installBridge(invoke: Record<string, string>, events: Record<string, string>): void {
  const api: Record<string, unknown> = {};
  for (const [name, channel] of Object.entries(invoke)) {
    api[name] = async (input?: unknown) => {
      const res = await fetch(`/__bridge/invoke/${encodeURIComponent(channel)}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: input === undefined ? '' : JSON.stringify(input),
      });
      // Like ipcRenderer.invoke, a refused sender gets a rejection, never a typed answer.
      if (!res.ok) throw new Error(`bridge refused ${channel}: HTTP ${res.status}`);
      return res.json();
    };
  }
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const source = new EventSource('/__bridge/events', { withCredentials: true });
  for (const [name, channel] of Object.entries(events)) {
    listeners.set(channel, new Set());
    source.addEventListener(channel, (e) => {
      const payload: unknown = JSON.parse((e as MessageEvent<string>).data);
      for (const l of listeners.get(channel) ?? []) l(payload);
    });
    api[`on${name.charAt(0).toUpperCase()}${name.slice(1)}`] = (listener: (payload: unknown) => void) => {
      if (typeof listener !== 'function') throw new TypeError('listener must be a function');
      const wrapped = (payload: unknown) => listener(payload);
      listeners.get(channel)?.add(wrapped);
      return () => {
        listeners.get(channel)?.delete(wrapped);
      };
    };
  }
  // Main reloading its windows (kiosk reset: webContents.reload()).
  source.addEventListener('host:reload', () => location.reload());
  Object.defineProperty(window, 'api', { value: Object.freeze(api), enumerable: true });
}
