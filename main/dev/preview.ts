import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { clientFileStores } from '../adapters/client-files.ts';
import { createRedactingLogger, fileSink } from '../adapters/logger.plain.ts';
import { createGotRelayHttp } from '../adapters/relay-client.got.ts';
import { createKeytarSecretStore } from '../adapters/secret-store.keytar.ts';
import type { ClientMode } from '../services/create-client.ts';
import { type DevStudio, devStudioAssertions } from '../services/dev-studio.ts';
import type { SecretStore, SettingsStore } from '../services/ports.ts';
import { startBridgeHost } from './bridge-host.ts';
import { startBrowserMain } from './browser-main.ts';

/** What the browser preview is started with (scripts/start.ts hands over its dev stack). */
export interface PreviewOptions {
  readonly relayUrl: string;
  /** A one-time enrolment code for this preview's device. */
  readonly enrollCode: string;
  readonly mode: Exclude<ClientMode, 'embedded'>;
  /** `npm start`'s demo studio (launchers): the player assertions. */
  readonly devStudio?: DevStudio;
  /** The preview's data folder (pending purchases, kiosk visit, logs). */
  readonly dataDir: string;
  /** The built renderer (out/renderer). */
  readonly rendererDir: string;
  readonly locale?: string;
}

/** A running preview. */
export interface Preview {
  /** The page's origin. */
  readonly url: string;
  /** What a person opens: sets the per-run secret cookie and shows the mode's screen. */
  readonly enterUrl: string;
  /** Where the device credential and binding references are kept. */
  readonly keychain: 'os' | 'memory';
  close(): Promise<void>;
}

/** The route each mode's window opens (main/windows/window-options.ts ROUTES). */
const ROUTE: Readonly<Record<PreviewOptions['mode'], string>> = { window: '#/', overlay: '#/overlay', kiosk: '#/kiosk' };

/** Secrets of this run only: where the OS keychain is missing, the preview still runs and says so. */
class RunMemorySecretStore implements SecretStore {
  readonly #entries = new Map<string, string>();
  async get(service: string, account: string) {
    return this.#entries.get(`${service}\u0000${account}`) ?? null;
  }
  async set(service: string, account: string, secret: string) {
    this.#entries.set(`${service}\u0000${account}`, secret);
  }
  async delete(service: string, account: string) {
    return this.#entries.delete(`${service}\u0000${account}`);
  }
}

/** True when keytar loads and can write and delete an entry in this session's keychain. */
async function keychainWorks(store: SecretStore): Promise<boolean> {
  try {
    await store.set('scan-to-bind-preview-probe', 'probe', 'x');
    await store.delete('scan-to-bind-preview-probe', 'probe');
    return true;
  } catch {
    return false;
  }
}

/**
 * The real product in a browser, where Electron cannot run: the built renderer served over
 * loopback with main's real services behind the per-run-secret bridge (main/dev/browser-main.ts,
 * the same host the e2e suite uses). The vault is the OS keychain when it answers; otherwise
 * the secrets live in this process only and the page says the keychain is missing. The page's
 * title and a bar at its top say it is the browser preview. Development and demos only.
 */
export async function startPreview(o: PreviewOptions): Promise<Preview> {
  mkdirSync(join(o.dataDir, 'logs'), { recursive: true, mode: 0o700 });
  const log = createRedactingLogger([fileSink(join(o.dataDir, 'logs', 'preview.log'))], 'info');
  const keytar = createKeytarSecretStore();
  const keychain = (await keychainWorks(keytar)) ? 'os' : 'memory';
  const http = createGotRelayHttp();
  let settingsDoc: unknown = {};
  const settingsStore: SettingsStore = {
    load: () => settingsDoc,
    save: (value) => {
      settingsDoc = { ...value };
    },
  };
  const main = await startBrowserMain(
    {
      secrets: keychain === 'os' ? keytar : new RunMemorySecretStore(),
      settingsStore,
      http,
      log,
      ...clientFileStores(o.dataDir, log),
      locale: o.locale ?? Intl.DateTimeFormat().resolvedOptions().locale,
      // Unpackaged: plain http to the loopback relay is allowed (services/relay-url-policy.ts).
      isPackaged: false,
      version: 'preview',
      mode: o.mode,
      relayUrl: o.relayUrl,
      playerAssertion: o.devStudio ? devStudioAssertions(o.devStudio, http) : async () => null,
      newId: randomUUID,
    },
    async (client) => {
      await client.enrol(o.enrollCode, `Browser preview (${o.mode})`);
    },
  );
  const notice = keychain === 'os' ? 'Browser preview — development only' : 'Browser preview — the OS keychain is missing: links last for this run only';
  const host = await startBridgeHost(main, o.rendererDir, { previewNotice: notice, route: ROUTE[o.mode] });
  return {
    url: host.url,
    enterUrl: host.enterUrl,
    keychain,
    async close() {
      await host.close();
      await main.close();
    },
  };
}
