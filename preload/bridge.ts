import { EVENT_CHANNELS, INVOKE_CHANNELS, subscribeName } from '@scan-to-bind/shared/ipc/channels';
import type { Api } from '@scan-to-bind/shared/ipc';

/** The two things of ipcRenderer the bridge uses; kept as a port so the builder runs in plain Node tests. */
export interface IpcRendererPort {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/**
 * Builds `window.api` from the shared contract's channel list: one named function per invoke
 * and one `onX(listener)` per event, which hands the listener only the payload (never the IPC
 * event) and returns an unsubscribe function. No generic invoke, no ipcRenderer, no Node
 * objects. Validation happens in main; the bridge carries no schema library.
 */
export function buildApi(ipc: IpcRendererPort): Api {
  const api: Record<string, unknown> = {};
  for (const [name, channel] of Object.entries(INVOKE_CHANNELS)) {
    api[name] = (input?: unknown) => ipc.invoke(channel, input);
  }
  for (const [name, channel] of Object.entries(EVENT_CHANNELS)) {
    api[subscribeName(name)] = (listener: (payload: unknown) => void) => {
      if (typeof listener !== 'function') throw new TypeError('listener must be a function');
      const wrapped = (_event: unknown, payload: unknown) => listener(payload);
      ipc.on(channel, wrapped);
      return () => {
        ipc.removeListener(channel, wrapped);
      };
    };
  }
  return Object.freeze(api) as unknown as Api;
}
