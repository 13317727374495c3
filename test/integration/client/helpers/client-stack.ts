import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RelayConfigInput } from '../../../../relay/src/config.ts';
import { type Stack, startStack } from '../../../../relay/test/support/stack.ts';
import { clientFileStores } from '../../../../main/adapters/client-files.ts';
import { createGotRelayHttp } from '../../../../main/adapters/relay-client.got.ts';
import type { BindingService } from '../../../../main/services/binding-service.ts';
import type { PurchaseResultEvent } from '../../../../main/embed/events.ts';
import { type Client as AppClient, createClient } from '../../../../main/services/create-client.ts';
import type { KioskVisits } from '../../../../main/services/kiosk-visits.ts';
import { playerKeyFrom } from '../../../../main/services/player.ts';
import type { Clock, HttpRequest, RelayHttp } from '../../../../main/services/ports.ts';
import type { PurchaseService } from '../../../../main/services/purchase-service.ts';
import type { RelayApi } from '../../../../main/services/relay/relay-api.ts';
import { type DeviceCredential, Vault } from '../../../../main/services/vault.ts';
import { MemoryLogger, MemorySettingsStore } from '../../../fakes/memory-stores.ts';
import { RunSecretStore, secretStoreKind } from '../../../support/run-secret-store.ts';

/*
 * The client's services on their real adapters (got, the file pending store, keytar where a
 * D-Bus session exists) against the real relay and sandbox, started in-process on 127.0.0.1
 * the way relay/test/support/stack.ts does (fast relay intervals, notifyTimeScale 0.001).
 */

export { secretStoreKind };

/** RelayHttp on got that counts the requests per `METHOD path`. */
export function countingHttp(): RelayHttp & { count(method: string, path: string): number } {
  const inner = createGotRelayHttp();
  const counts = new Map<string, number>();
  const key = (r: Pick<HttpRequest, 'method' | 'url'>) => `${r.method} ${new URL(r.url).pathname}`;
  return {
    request(req) {
      counts.set(key(req), (counts.get(key(req)) ?? 0) + 1);
      return inner.request(req);
    },
    stream: (req) => inner.stream(req),
    count: (method, path) => counts.get(`${method} ${path}`) ?? 0,
  };
}

/** One client (a PC or a kiosk): main's one composition (createClient) on the real adapters. */
export interface Client {
  readonly client: AppClient;
  readonly relay: RelayApi;
  readonly http: ReturnType<typeof countingHttp>;
  readonly vault: Vault;
  readonly secrets: RunSecretStore;
  readonly binding: BindingService;
  readonly purchases: PurchaseService;
  readonly player: string;
  readonly playerKey: string;
  readonly log: MemoryLogger;
  /** Every `purchase-result` the embedding launcher received from this client run, from before its start. */
  readonly purchaseResults: PurchaseResultEvent[];
  /** Kiosks: the visit and its outbox (null for launchers). */
  readonly visits: KioskVisits | null;
  /** The client's data folder (pending purchases, the kiosk visit file). */
  readonly dir: string;
  /** The process dies: timers and the stream stop, nothing is cleaned up (the data folder and the keychain stay). */
  kill(): void;
  close(): Promise<void>;
}

/** Enrols nothing: takes the device credential the stack enrolled, stores it in the vault, and builds the client with main's createClient. */
export async function startClient(
  s: Stack,
  device: 'kiosk' | 'launcher',
  options: {
    clock?: Clock;
    log?: MemoryLogger;
    player?: string;
    relayUrl?: string;
    restartOf?: Client;
    keepAwake?: (on: boolean) => void;
    /** The pending-purchase file is never written (a write in flight when the process dies). */
    pendingWritesNeverLand?: boolean;
    /** While `land` is false, the pending-purchase file's writes and removals never land (main dies with them in flight). */
    pendingWrites?: { land: boolean };
  } = {},
): Promise<Client> {
  // A restart (`restartOf`): the same data folder, keychain entries and player, as after a process kill.
  const prior = options.restartOf;
  const dir = prior?.dir ?? mkdtempSync(join(tmpdir(), 'stb-client-'));
  const secrets = prior?.secrets ?? new RunSecretStore('it');
  const testDevice = device === 'kiosk' ? s.kiosk : s.launcher;
  const relayUrl = options.relayUrl ?? s.relay.url;
  const credential: DeviceCredential = { relayUrl, deviceId: testDevice.creds.deviceId, deviceSecret: testDevice.creds.deviceSecret, kind: device };
  await new Vault(secrets).setDeviceCredential(credential);
  const player = options.player ?? prior?.player ?? `player-${Math.random().toString(36).slice(2)}`;
  const log = options.log ?? new MemoryLogger();
  const http = countingHttp();
  const files = clientFileStores(dir, log);
  const gate = options.pendingWrites;
  const pending: typeof files.pending = options.pendingWritesNeverLand
    ? { ...files.pending, put: () => new Promise<void>(() => {}) }
    : gate
      ? {
          list: () => files.pending.list(),
          put: (id, value) => (gate.land ? files.pending.put(id, value) : new Promise<void>(() => {})),
          remove: (id) => (gate.land ? files.pending.remove(id) : new Promise<void>(() => {})),
        }
      : files.pending;
  const client = await createClient({
    secrets,
    settingsStore: new MemorySettingsStore(),
    http,
    log,
    ...files,
    pending,
    locale: 'en',
    // A development client: the test relay is plain http on loopback.
    isPackaged: false,
    version: '0.1.0-it',
    mode: device === 'kiosk' ? 'kiosk' : 'window',
    relayUrl,
    // Like a studio's provider: a fresh token pinned to the asking device, so flows outlast its lifetime.
    playerAssertion: async ({ deviceId }) => (device === 'launcher' ? s.assertion(player, deviceId) : null),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.keepAwake ? { keepAwake: options.keepAwake } : {}),
    newId: () => crypto.randomUUID(),
    tuning: { backoff: { baseMs: 50, maxMs: 500 }, followUp: { baseMs: 100, maxMs: 400 } },
  });
  const purchaseResults: PurchaseResultEvent[] = [];
  client.on('purchase-result', (e) => purchaseResults.push(e));
  await client.start();
  const playerKey = playerKeyFrom(device, device === 'launcher' ? s.assertion(player) : null);
  return {
    client,
    visits: client.visits,
    dir,
    relay: client.relay,
    http,
    vault: client.vault,
    secrets,
    binding: client.binding,
    purchases: client.purchases,
    player,
    playerKey,
    log,
    purchaseResults,
    kill: () => client.dispose(),
    async close() {
      client.dispose();
      await client.vault.clearBindingRef(playerKey).catch(() => undefined);
      await client.vault.clearDeviceCredential().catch(() => undefined);
      await secrets.delete('scan-to-bind', 'probe').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The sandbox and relay of one test file, with the fast intervals the relay's own tests use. */
export function startServers(overrides: Partial<RelayConfigInput> = {}): Promise<Stack> {
  console.log(
    `[client integration] vault on ${secretStoreKind() === 'keytar' ? 'keytar (real keychain over D-Bus)' : 'the in-memory SecretStore (no D-Bus session)'}`,
  );
  return startStack('sqlite', overrides);
}

/** What the sandbox says about payments and tokens. */
export interface SandboxPayment {
  paymentRequestId: string;
  status?: string;
  paymentAmount?: { currency: string; value: string };
}

/** The sandbox payments of one purchase intent (the relay derives paymentRequestId from it). */
export async function sandboxPayments(s: Stack, intentId: string): Promise<SandboxPayment[]> {
  const state = await s.admin('GET', '/state');
  return (state.body['payments'] as SandboxPayment[]).filter((p) => p.paymentRequestId.includes(intentId.replace(/-/g, '')));
}

/** The sandbox tokens of one wallet account. */
export async function sandboxTokens(s: Stack, loginId: string): Promise<Array<{ loginId: string; status: string }>> {
  const state = await s.admin('GET', '/state');
  return (state.body['tokens'] as Array<{ loginId: string; status: string }>).filter((t) => t.loginId === loginId);
}

/** Resolves with the first status the subscription sees that matches. */
export function nextMatching<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  match: (value: T) => boolean,
  timeoutMs = 10_000,
  what = 'status',
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const off = subscribe((value) => {
      if (!match(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}
