import { createHandle, type IpcMainPort, registerHandlers } from '../ipc/handle.ts';
import { createPush, type PushTarget } from '../ipc/push.ts';
import { type Client, type ClientPorts, createClient } from '../services/create-client.ts';

/**
 * Main without Electron, for the browser preview (`npm start` where Electron cannot run) and
 * the end-to-end suite: the one client composition (services/create-client.ts) with the IPC
 * wrapper of main/ipc/handle.ts registered on an in-process stand-in for ipcMain. The bridge
 * host (bridge-host.ts) calls the registered listeners for each page request, after its own
 * per-run secret check, which stands in for Electron's sender check. Development only: nothing
 * under main/dev is imported by the app's entry, so installers never carry it.
 */
export interface BrowserMain {
  readonly client: Client;
  /** Calls the registered IPC listener of `channel` as a trusted main frame would. */
  invoke(channel: string, args: unknown[]): Promise<unknown>;
  /** Adds a push target (a page's event stream); returns its removal. */
  addTarget(target: PushTarget): () => void;
  /** Windows reloading (kiosk reset): the host tells every page. */
  onReload(listener: () => void): () => void;
  close(): Promise<void>;
}

/** The ports of the client, minus what this host provides itself (pushes, reloads). */
export type BrowserMainPorts = Omit<ClientPorts, 'push' | 'reloadWindows'>;

/**
 * Builds and starts the client behind an in-process IPC stand-in. `prepare` runs between the
 * client's construction and its start (enrolment, as the Electron runtime does it).
 */
export async function startBrowserMain(ports: BrowserMainPorts, prepare?: (client: Client) => Promise<void>): Promise<BrowserMain> {
  const targets = new Set<PushTarget>();
  const reloadListeners = new Set<() => void>();
  const warn = (m: string, f: Record<string, unknown>) => ports.log.warn(m, f);
  const client = await createClient({
    ...ports,
    push: createPush(
      () => [...targets],
      () => true,
      warn,
    ),
    reloadWindows: () => {
      for (const l of reloadListeners) l();
    },
  });
  type Listener = Parameters<IpcMainPort['handle']>[1];
  const listeners = new Map<string, Listener>();
  const handle = createHandle({
    ipcMain: { handle: (channel, listener) => listeners.set(channel, listener), removeHandler: (c) => listeners.delete(c) },
    // The bridge host admits only requests carrying the run's secret (its stand-in for the sender check).
    isTrustedSender: () => true,
    log: warn,
    onActivity: (name) => client.activity(name),
  });
  registerHandlers(handle, client.handlers);
  try {
    await prepare?.(client);
    await client.start();
  } catch (error) {
    client.dispose();
    throw error;
  }
  return {
    client,
    async invoke(channel, args) {
      const listener = listeners.get(channel);
      if (!listener) return undefined;
      return listener({} as Parameters<Listener>[0], ...args);
    },
    addTarget(target) {
      targets.add(target);
      return () => targets.delete(target);
    },
    onReload(listener) {
      reloadListeners.add(listener);
      return () => reloadListeners.delete(listener);
    },
    async close() {
      client.dispose();
    },
  };
}
