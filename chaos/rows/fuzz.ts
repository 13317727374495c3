import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { type InvokeName, invokes, parseInvokeInput } from '@scan-to-bind/shared/ipc';
import { createHandle, type IpcMainPort, registerHandlers } from '../../main/ipc/handle.ts';
import { buildHandlers } from '../../main/ipc/handlers.ts';
import { defaultSettings, SettingsService } from '../../main/services/settings-service.ts';
import { send } from '../../relay/test/support/client.ts';
import { MemorySettingsStore } from '../../test/fakes/memory-stores.ts';
import type { Row, RowContext } from '../matrix.ts';
import { bindWallet, kioskClientWithBinding } from './helpers.ts';
import { HOSTILE } from './attacks.ts';
import { snapshot } from './notify-sign.ts';

/** Inputs per relay endpoint / IPC channel: 10,000 in the full run, 1,000 in the short one. */
export const fuzzCount = (short: boolean): number => (short ? 1_000 : 10_000);

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(...HOSTILE.map((h) => h.slice(0, 300))), fc.string({ unit: 'grapheme', maxLength: 30 }));
const json = fc.jsonValue({ maxDepth: 3 });
/** A body no strict schema accepts: an object with an unknown key, or any non-object JSON. */
const invalidBody = fc.oneof(
  fc.record({ __fuzz: json }).chain((o) => fc.dictionary(text, json, { maxKeys: 4 }).map((d) => ({ ...d, ...o }))),
  fc.oneof(fc.string(), fc.integer(), fc.array(json, { maxLength: 3 }), fc.constant(null)),
);

interface Endpoint {
  method: 'GET' | 'POST' | 'DELETE';
  path: (id: string) => string;
  signed: boolean;
  /** Served on the admin and operations listener. */
  admin?: boolean;
}

const ENDPOINTS: Endpoint[] = [
  { method: 'POST', path: () => '/v1/devices/enroll', signed: false },
  { method: 'GET', path: (q) => `/v1/wallets?${q}`, signed: true },
  { method: 'GET', path: (q) => `/v1/catalogue?currency=${q}`, signed: true },
  { method: 'POST', path: () => '/v1/bindings', signed: true },
  { method: 'GET', path: (id) => `/v1/bindings/${id}`, signed: true },
  { method: 'GET', path: (q) => `/v1/bindings/current?${q}`, signed: true },
  { method: 'POST', path: (id) => `/v1/bindings/${id}/refresh-code`, signed: true },
  { method: 'POST', path: (id) => `/v1/bindings/${id}/withdraw`, signed: true },
  { method: 'DELETE', path: (id) => `/v1/bindings/${id}`, signed: true },
  { method: 'POST', path: () => '/v1/kiosk/visits', signed: true },
  { method: 'POST', path: () => '/v1/purchases', signed: true },
  { method: 'GET', path: (id) => `/v1/purchases/${id}`, signed: true },
  { method: 'GET', path: (id) => `/v1/purchases/${id}/refunds`, signed: true },
  { method: 'GET', path: (q) => `/v1/purchases?pending=${q}`, signed: true },
  { method: 'POST', path: () => '/antom/notify/payment', signed: false },
  { method: 'POST', path: () => '/antom/notify/authorization', signed: false },
  { method: 'POST', path: () => '/antom/notify/refund', signed: false },
  { method: 'POST', path: () => '/admin/v1/refunds', signed: false, admin: true },
  { method: 'POST', path: (id) => `/admin/v1/bindings/${id}/revoke`, signed: false, admin: true },
  { method: 'GET', path: (id) => `/admin/v1/payments/${id}`, signed: false, admin: true },
];

/** Sends `n` generated invalid requests to every relay endpoint: no 5xx, no state change. */
async function fuzzRelay(ctx: RowContext): Promise<void> {
  const bindingId = await bindWallet(ctx.stack.kiosk);
  const before = await snapshot(ctx.stack);
  const n = fuzzCount(ctx.short);
  const k = ctx.stack.kiosk;
  const failures: string[] = [];
  for (const ep of ENDPOINTS) {
    // Ids are random or hostile (never the real binding unless mangled); bodies always invalid.
    const idArb = fc.oneof(
      text.map((s) => encodeURIComponent(s)),
      fc.constant(`${bindingId}x`),
      fc.uuid().map(String),
    );
    const samples = fc.sample(fc.record({ id: idArb, body: invalidBody, mode: fc.constantFrom('signed', 'signed', 'tampered', 'unsigned') }), n);
    for (let i = 0; i < samples.length; i += 25) {
      await Promise.all(
        samples.slice(i, i + 25).map(async ({ id, body, mode }) => {
          const path = ep.path(id || 'x');
          const raw = ep.method === 'GET' || ep.method === 'DELETE' ? '' : JSON.stringify(body);
          const headers = ep.signed && mode !== 'unsigned' ? k.sign(ep.method, path, raw) : {};
          if (mode === 'tampered' && headers['x-signature']) headers['x-signature'] = `${headers['x-signature'].slice(0, -2)}AA`;
          try {
            const res = await send(ep.admin ? ctx.stack.relay.adminUrl : ctx.stack.relay.url, ep.method, path, raw, headers);
            const code = (res.body['error'] as { code?: unknown } | undefined)?.code;
            if (res.status >= 500 || (res.status >= 300 && typeof code !== 'string' && !path.startsWith('/antom/')))
              failures.push(`${ep.method} ${path.slice(0, 60)} ${raw.slice(0, 60)} → ${res.status} ${JSON.stringify(res.body).slice(0, 100)}`);
          } catch (error) {
            failures.push(`${ep.method} ${path.slice(0, 60)} → ${(error as Error).message}`);
          }
        }),
      );
    }
  }
  ctx.expect(failures.length === 0, `${failures.length} bad answers, e.g. ${failures.slice(0, 3).join(' || ')}`);
  ctx.expect((await snapshot(ctx.stack)) === before, 'fuzzed input changed state');
}

/** Calls every IPC channel through the real handle() wrapper with generated invalid input. */
async function fuzzIpc(ctx: RowContext): Promise<void> {
  const client = await kioskClientWithBinding(ctx);
  const listeners = new Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>();
  const ipcMain: IpcMainPort = {
    handle: (channel, listener) => listeners.set(channel, listener as never),
    removeHandler: (channel) => listeners.delete(channel),
  };
  const settings = new SettingsService(new MemorySettingsStore(), defaultSettings('en'));
  const handle = createHandle({ ipcMain, isTrustedSender: () => true, log: () => undefined });
  registerHandlers(
    handle,
    buildHandlers({
      version: '0.0.0',
      binding: client.binding,
      purchases: client.purchases,
      settings,
      relay: client.relay,
      kiosk: null,
      writeClipboard: () => undefined,
    }),
  );
  const state = async () => JSON.stringify([client.binding.status(), client.purchases.pending(), settings.get(), await snapshot(ctx.stack)]);
  const before = await state();
  const n = fuzzCount(ctx.short);
  const failures: string[] = [];
  for (const name of Object.keys(invokes) as InvokeName[]) {
    const listener = listeners.get(invokes[name].channel);
    ctx.expect(listener, `no handler for ${name}`);
    const inputs = fc
      .sample(
        fc.oneof(fc.anything({ maxDepth: 3 }), invalidBody, fc.record({ purchaseIntentId: text, sku: text, quantity: fc.oneof(fc.double(), fc.string()) })),
        n * 2,
      )
      .filter((v) => !parseInvokeInput(name, v).ok)
      .slice(0, n);
    for (const input of inputs) {
      try {
        const res = (await listener?.({}, input)) as { ok?: unknown; code?: unknown };
        if (res?.ok !== false || res.code !== 'INVALID_INPUT')
          failures.push(`${name}(${JSON.stringify(input)?.slice(0, 60)}) → ${JSON.stringify(res)?.slice(0, 80)}`);
        ctx.payloads.push(JSON.stringify(res));
      } catch (error) {
        failures.push(`${name} threw ${(error as Error).message}`);
      }
    }
    // A second argument is refused too.
    const extra = (await listener?.({}, undefined, 'x')) as { code?: unknown };
    if (extra?.code !== 'INVALID_INPUT') failures.push(`${name} with two arguments → ${JSON.stringify(extra)}`);
  }
  ctx.expect(failures.length === 0, `${failures.length} bad IPC answers, e.g. ${failures.slice(0, 3).join(' || ')}`);
  ctx.expect((await state()) === before, 'fuzzed IPC input changed state');
  void randomUUID;
}

export const fuzzRows: Row[] = [
  { name: 'fuzz relay endpoints', family: 'fuzz', engines: ['sqlite', 'postgres'], run: fuzzRelay },
  { name: 'fuzz IPC channels', family: 'fuzz', engines: ['sqlite'], run: fuzzIpc },
];
