import { describe, expect, it } from 'vitest';
import { buildApi, type IpcRendererPort } from '../../../preload/bridge.ts';
import { EVENT_CHANNELS, INVOKE_CHANNELS } from '../../../shared/ipc/channels.ts';

type Listener = (event: unknown, ...args: unknown[]) => void;

function fakeIpc() {
  const calls: [string, unknown[]][] = [];
  const listeners = new Map<string, Set<Listener>>();
  const port: IpcRendererPort = {
    invoke: async (channel, ...args) => {
      calls.push([channel, args]);
      return { ok: true, value: null };
    },
    on: (channel, l) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)?.add(l);
    },
    removeListener: (channel, l) => {
      listeners.get(channel)?.delete(l);
    },
  };
  const emit = (channel: string, payload: unknown) => {
    for (const l of listeners.get(channel) ?? []) l({ sender: 'ipc-event-object', ports: [] }, payload);
  };
  return { port, calls, listeners, emit };
}

describe('preload bridge', () => {
  it('exposes exactly one named function per invoke and one onX per event, and nothing generic', () => {
    const api = buildApi(fakeIpc().port) as unknown as Record<string, unknown>;
    const expected = [...Object.keys(INVOKE_CHANNELS), ...Object.keys(EVENT_CHANNELS).map((e) => `on${e[0]?.toUpperCase()}${e.slice(1)}`)].sort();
    expect(Object.keys(api).sort()).toEqual(expected);
    expect(api).not.toHaveProperty('invoke');
    expect(api).not.toHaveProperty('send');
    expect(api).not.toHaveProperty('ipcRenderer');
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('sends each call on its own channel with the caller input only', async () => {
    const ipc = fakeIpc();
    const api = buildApi(ipc.port);
    await api.startBinding({ wallet: 'DANA' });
    await api.bindingStatus();
    expect(ipc.calls).toEqual([
      ['binding:start', [{ wallet: 'DANA' }]],
      ['binding:status', [undefined]],
    ]);
  });

  it('hands listeners the payload only, never the IPC event, and unsubscribes', () => {
    const ipc = fakeIpc();
    const api = buildApi(ipc.port);
    const seen: unknown[][] = [];
    const off = api.onBindingChanged((...args: unknown[]) => seen.push(args));
    ipc.emit('binding:changed', { state: 'NONE' });
    off();
    ipc.emit('binding:changed', { state: 'QR_SHOWN' });
    expect(seen).toEqual([[{ state: 'NONE' }]]);
    expect(ipc.listeners.get('binding:changed')?.size).toBe(0);
  });

  it('refuses a listener that is not a function', () => {
    const api = buildApi(fakeIpc().port);
    expect(() => api.onPurchaseChanged('alert(1)' as never)).toThrow(TypeError);
  });
});
