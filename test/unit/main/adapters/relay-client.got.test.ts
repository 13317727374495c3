import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGotRelayHttp } from '../../../../main/adapters/relay-client.got.ts';
import { systemClock } from '../../../../main/services/ports.ts';
import { RelayContractError } from '../../../../main/services/relay/errors.ts';
import { RelayApi } from '../../../../main/services/relay/relay-api.ts';
import { StatusStream } from '../../../../main/services/relay/status-stream.ts';
import { verifyClientSignature } from '../../../../relay/src/devices/client-signature.ts';
import { MemoryLogger } from '../../../fakes/memory-stores.ts';

const SECRET = 'device-secret-device-secret-0123456789';
type Route = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server;
let base: string;
let route: Route;
const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string; valid: boolean }> = [];

/** The relay's own verifier: the client's signature, X-Player-Assertion included, must pass it. */
function verify(req: IncomingMessage, body: string): boolean {
  const h = (name: string): string => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : '';
  };
  const input = {
    method: req.method ?? '',
    pathWithQuery: req.url ?? '',
    timestamp: h('x-timestamp'),
    nonce: h('x-nonce'),
    body,
    playerAssertion: h('x-player-assertion') || undefined,
  };
  return h('x-device-id') === 'dev_1' && verifyClientSignature(SECRET, input, h('x-signature'));
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, valid: verify(req, body) });
      route(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen.length = 0;
});

function api(over: Partial<ConstructorParameters<typeof RelayApi>[0]> = {}, relayUrl = base) {
  return new RelayApi({
    http: createGotRelayHttp(),
    isPackaged: false,
    clock: systemClock,
    log: new MemoryLogger(),
    credential: async () => ({ relayUrl, deviceId: 'dev_1', deviceSecret: SECRET, kind: 'launcher' }),
    playerAssertion: async () => 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJwMSJ9.c2ln',
    backoff: { baseMs: 5, maxMs: 20 },
    timeoutMs: 300,
    ...over,
  });
}

const BINDING_ID = '6f1c2a4e-3b7d-4e5f-9a0b-1c2d3e4f5a6b';
const DEVICE_ID = '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d';
const binding = {
  bindingId: BINDING_ID,
  state: 'QR_SHOWN',
  wallet: 'DANA',
  codeValue: 'https://q',
  codeExpiresAt: '2030-01-01T00:00:00Z',
  refreshesLeft: 2,
  version: 1,
};

describe('RelayApi over got against a real HTTP server', () => {
  it('signs every request the way the relay verifies it, with the player assertion', async () => {
    route = (_req, _body, res) => json(res, 200, binding);
    const b = await api().createBinding('DANA');
    expect(b.bindingId).toBe(BINDING_ID);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.valid).toBe(true);
    expect(seen[0]?.headers['x-player-assertion']).toMatch(/^eyJ/);
    expect(seen[0]?.headers['content-type']).toBe('application/json');
    expect(seen[0]?.body).toBe('{"wallet":"DANA"}');
  });

  it('asks the provider with the device id before signing, and once more with refresh after PLAYER_UNAUTHORIZED', async () => {
    const asked: Array<{ deviceId: string; refresh: boolean }> = [];
    const tokens = ['eyJ.old.sig', 'eyJ.new.sig'];
    route = (req, _body, res) =>
      req.headers['x-player-assertion'] === 'eyJ.old.sig'
        ? json(res, 401, { error: { code: 'PLAYER_UNAUTHORIZED', message: 'expired' } })
        : json(res, 200, binding);
    const relay = api({
      playerAssertion: async (r) => {
        asked.push(r);
        return tokens[asked.length - 1] ?? null;
      },
    });
    // Not idempotent, and still sent again: a request refused at authentication recorded nothing.
    expect((await relay.createBinding('DANA')).bindingId).toBe(BINDING_ID);
    expect(asked).toEqual([
      { deviceId: 'dev_1', refresh: false },
      { deviceId: 'dev_1', refresh: true },
    ]);
    expect(seen.map((r) => [r.headers['x-player-assertion'], r.valid])).toEqual([
      ['eyJ.old.sig', true],
      ['eyJ.new.sig', true],
    ]);
    // A second refusal is final: one refresh per call, no loop.
    route = (_req, _body, res) => json(res, 401, { error: { code: 'PLAYER_UNAUTHORIZED', message: 'no' } });
    seen.length = 0;
    await expect(api().wallets()).rejects.toMatchObject({ code: 'PLAYER_UNAUTHORIZED' });
    expect(seen).toHaveLength(2);
  });

  it('signs a kiosk request without an assertion and never asks the provider', async () => {
    let asked = 0;
    route = (_req, _body, res) => json(res, 200, { wallets: [] });
    const kiosk = api({
      credential: async () => ({ relayUrl: base, deviceId: 'dev_1', deviceSecret: SECRET, kind: 'kiosk' }),
      playerAssertion: async () => {
        asked++;
        return 'eyJ.x.y';
      },
    });
    await kiosk.wallets().catch(() => undefined);
    expect(asked).toBe(0);
    expect(seen[0]?.headers['x-player-assertion']).toBeUndefined();
    expect(seen[0]?.valid).toBe(true);
  });

  it('retries an idempotent GET on 503 with a fresh nonce each time', async () => {
    let n = 0;
    route = (_req, _body, res) => (++n < 3 ? json(res, 503, { error: { code: 'OVERLOADED', message: 'busy' } }) : json(res, 200, binding));
    await api().getBinding(BINDING_ID);
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.headers['x-nonce'])).size).toBe(3);
    expect(seen.every((s) => s.valid)).toBe(true);
  });

  it('never retries a non-idempotent POST', async () => {
    route = (_req, _body, res) => json(res, 503, { error: { code: 'OVERLOADED', message: 'busy' } });
    await expect(api().createBinding('DANA')).rejects.toMatchObject({ code: 'OVERLOADED' });
    await expect(api().refreshCode(BINDING_ID)).rejects.toMatchObject({ code: 'OVERLOADED' });
    expect(seen).toHaveLength(2);
  });

  it('retries the purchase POST (idempotent by intent id) with the same body', async () => {
    let n = 0;
    const id = '0b6f1f4e-8a8d-4c1e-9d7a-2f0f8f3f9a11';
    route = (_req, _body, res) =>
      ++n < 2
        ? json(res, 502, {})
        : json(res, 200, {
            purchaseIntentId: id,
            state: 'SUCCEEDED',
            version: 2,
            bindingId: BINDING_ID,
            sku: 'gems',
            quantity: 1,
            total: { currency: 'HKD', minor: 1200 },
          });
    const p = await api().createPurchase({ bindingId: BINDING_ID, sku: 'gems', quantity: 1, purchaseIntentId: id });
    expect(p.state).toBe('SUCCEEDED');
    expect(seen.map((s) => s.body)).toEqual([seen[0]?.body, seen[0]?.body]);
  });

  it('maps error bodies to shared codes and does not retry them', async () => {
    route = (_req, _body, res) => json(res, 402, { error: { code: 'INSUFFICIENT_BALANCE', message: 'low' } });
    await expect(api().getPurchase('0b6f1f4e-8a8d-4c1e-9d7a-2f0f8f3f9a11')).rejects.toMatchObject({ code: 'INSUFFICIENT_BALANCE', status: 402 });
    expect(seen).toHaveLength(1);
  });

  it('answers null for a purchase the relay never received', async () => {
    route = (_req, _body, res) => json(res, 404, { error: { code: 'NOT_FOUND', message: 'no' } });
    expect(await api().getPurchase('0b6f1f4e-8a8d-4c1e-9d7a-2f0f8f3f9a11')).toBeNull();
  });

  it('times out (TIMEOUT) and reports an unreachable relay (RELAY_UNAVAILABLE)', async () => {
    route = () => {};
    await expect(api({ retries: 0 }).wallets()).rejects.toMatchObject({ code: 'TIMEOUT' });
    const reach: boolean[] = [];
    await expect(api({ retries: 1, onReachability: (r) => reach.push(r) }, 'http://127.0.0.1:9').wallets()).rejects.toMatchObject({
      code: 'RELAY_UNAVAILABLE',
    });
    expect(reach).toEqual([false, false]);
  });

  it('refuses an answer that does not match the client API with a typed RelayContractError, never guessing its shape', async () => {
    const cases: Array<[string, () => Promise<unknown>, unknown, string]> = [
      ['unknown state', () => api().getBinding(BINDING_ID), { ...binding, state: 'WHATEVER' }, 'state: invalid_value'],
      ['binding id that is not a UUID', () => api().getBinding(BINDING_ID), { ...binding, bindingId: 'bnd_12345678' }, 'bindingId: invalid_format'],
      ['error as a bare string', () => api().getBinding(BINDING_ID), { ...binding, error: 'QR_EXPIRED' }, 'error: invalid_type'],
      ['a wrapped binding', () => api().currentBinding(), { binding }, 'bindingId: invalid_type'],
      ['wallets as a bare array', () => api().wallets(), [{ id: 'DANA', displayName: 'DANA', currency: 'IDR', country: 'ID' }], '(root): invalid_type'],
      ['catalogue as a bare array', () => api().catalogue('HKD'), [], '(root): invalid_type'],
      [
        'a purchase without its total',
        () => api().getPurchase('0b6f1f4e-8a8d-4c1e-9d7a-2f0f8f3f9a11'),
        { purchaseIntentId: '0b6f1f4e-8a8d-4c1e-9d7a-2f0f8f3f9a11', state: 'SUCCEEDED' },
        'total: invalid_type',
      ],
    ];
    for (const [name, call, answer, issue] of cases) {
      route = (_req, _body, res) => json(res, 200, answer);
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, name).toBeInstanceOf(RelayContractError);
      expect(error, name).toMatchObject({ code: 'INTERNAL', status: 200 });
      expect((error as RelayContractError).issues, name).toContain(issue);
    }
    route = (_req, _body, res) => res.end('<html>');
    await expect(api().wallets()).rejects.toBeInstanceOf(RelayContractError);
  });

  it('reads an answer with a field it does not know (a newer relay) and drops that field', async () => {
    route = (_req, _body, res) => json(res, 200, { ...binding, addedLater: 'x' });
    expect(await api().getBinding(BINDING_ID)).toEqual(binding);
  });

  it('takes the code of an error body only from the relay error body; any other body gets the status code', async () => {
    route = (_req, _body, res) => json(res, 409, { error: 'QR_REFRESH_LIMIT' });
    await expect(api().refreshCode(BINDING_ID)).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', status: 409 });
    route = (_req, _body, res) => json(res, 409, { error: { code: 'QR_REFRESH_LIMIT', message: 'no more' } });
    await expect(api().refreshCode(BINDING_ID)).rejects.toMatchObject({ code: 'QR_REFRESH_LIMIT', status: 409 });
  });

  it('says DEVICE_NOT_ENROLLED without a credential, and enrols unsigned', async () => {
    await expect(api({ credential: async () => null }).wallets()).rejects.toMatchObject({ code: 'DEVICE_NOT_ENROLLED' });
    route = (_req, _body, res) => json(res, 200, { deviceId: DEVICE_ID, deviceSecret: 'x'.repeat(43), kind: 'kiosk' });
    const cred = await api().enroll(base, 'ONE-TIME', 'Kiosk 1');
    expect(cred).toEqual({ relayUrl: base, deviceId: DEVICE_ID, deviceSecret: 'x'.repeat(43), kind: 'kiosk' });
    expect(seen.at(-1)?.headers['x-signature']).toBeUndefined();
    expect(JSON.parse(seen.at(-1)?.body ?? '')).toEqual({ code: 'ONE-TIME', label: 'Kiosk 1' });
  });
});

// Issue 14 §5: a packaged client never sends the enrolment code, a signed request or an event
// subscription over plain http; development allows plain http to loopback only.
describe('relay URL rule in RelayApi', () => {
  it('a packaged build refuses the http relay: RELAY_URL_INSECURE and no request reaches it', async () => {
    route = (_req, _body, res) => json(res, 200, { deviceId: DEVICE_ID, deviceSecret: 'x'.repeat(43), kind: 'kiosk' });
    const packaged = api({ isPackaged: true });
    await expect(packaged.enroll(base, 'ONE-TIME-CODE')).rejects.toMatchObject({ code: 'RELAY_URL_INSECURE' });
    await expect(packaged.wallets()).rejects.toMatchObject({ code: 'RELAY_URL_INSECURE' });
    await expect(
      packaged.createPurchase({ bindingId: BINDING_ID, sku: 'gems', quantity: 1, purchaseIntentId: '0b6f1f4e-8a8d-4c1e-9d7a-2f0f8f3f9a11' }),
    ).rejects.toMatchObject({ code: 'RELAY_URL_INSECURE' });
    await expect(packaged.openEvents(new AbortController().signal, null)).rejects.toMatchObject({ code: 'RELAY_URL_INSECURE' });
    // Not enrolled because of it: the app shows why, not a bare "not enrolled".
    const unenrolled = api({ isPackaged: true, credential: async () => null });
    await expect(unenrolled.wallets()).rejects.toMatchObject({ code: 'DEVICE_NOT_ENROLLED' });
    await expect(unenrolled.enroll(base, 'ONE-TIME-CODE')).rejects.toMatchObject({ code: 'RELAY_URL_INSECURE' });
    await expect(unenrolled.wallets()).rejects.toMatchObject({ code: 'RELAY_URL_INSECURE' });
    expect(seen).toHaveLength(0);
  });

  it('development refuses plain http to a non-loopback host before sending anything', async () => {
    const sent: string[] = [];
    const http = {
      request: async (r: { url: string }) => {
        sent.push(r.url);
        return { status: 200, headers: {}, body: '{}' };
      },
      stream: () => (async function* () {})(),
    };
    const lan = api({ http }, 'http://192.0.2.10:8787');
    await expect(lan.wallets()).rejects.toMatchObject({ code: 'RELAY_URL_INSECURE' });
    await expect(lan.enroll('http://192.0.2.10:8787', 'ONE-TIME-CODE')).rejects.toMatchObject({ code: 'RELAY_URL_INSECURE' });
    expect(sent).toEqual([]);
  });

  it('follows no redirect (so never from https to http): a 3xx is an error and the target sees nothing', async () => {
    const target: string[] = [];
    const other = createServer((req, res) => {
      target.push(req.url ?? '');
      json(res, 200, { deviceId: DEVICE_ID, deviceSecret: 'x'.repeat(43), kind: 'kiosk' });
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const elsewhere = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      route = (req, _body, res) => {
        res.writeHead(307, { location: `${elsewhere}${req.url}` });
        res.end();
      };
      await expect(api().enroll(base, 'ONE-TIME-CODE')).rejects.toMatchObject({ status: 307 });
      await expect(api({ retries: 0 }).wallets()).rejects.toMatchObject({ status: 307 });
      await expect(
        (async () => {
          for await (const _ of await api().openEvents(new AbortController().signal, null)) break;
        })(),
      ).rejects.toMatchObject({ kind: 'refused' });
      expect(target).toEqual([]);
    } finally {
      other.closeAllConnections();
      await new Promise((r) => other.close(r));
    }
  });
});

describe('StatusStream over got', () => {
  it('receives signed SSE events and reconnects with Last-Event-ID after the server drops it', async () => {
    let connections = 0;
    route = (req, _body, res) => {
      connections++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (connections === 1) {
        res.write(`id: 1\nevent: binding\ndata: ${JSON.stringify(binding)}\n\n`);
        setTimeout(() => res.destroy(), 20);
      } else {
        res.write(`id: 2\nevent: purchase\ndata: {"lastEventId":"${req.headers['last-event-id']}"}\n\n`);
      }
    };
    const relay = api();
    const events: Array<[string, string]> = [];
    const connected: boolean[] = [];
    let done: () => void = () => {};
    const finished = new Promise<void>((r) => (done = r));
    const stream = new StatusStream(
      (signal, last) => relay.openEvents(signal, last),
      {
        onEvent: (e) => {
          events.push([e.event, e.data]);
          if (events.length === 2) done();
        },
        onConnection: (c) => connected.push(c),
      },
      systemClock,
      new MemoryLogger(),
      { baseMs: 5, maxMs: 10 },
    );
    stream.start();
    await finished;
    stream.stop();
    expect(events[0]?.[0]).toBe('binding');
    expect(events[1]).toEqual(['purchase', '{"lastEventId":"1"}']);
    expect(connected.slice(0, 3)).toEqual([true, false, true]);
    expect(seen.filter((s) => s.url === '/v1/events').every((s) => s.valid)).toBe(true);
  });
});
