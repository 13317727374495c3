import { Writable } from 'node:stream';
import { DomainError } from '@scan-to-bind/shared/domain';
import { RELAY_ROUTES } from '@scan-to-bind/shared/relay-api';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSignedDeviceContext } from '../src/http/device-auth.ts';
import { createServer } from '../src/http/server.ts';
import { createLogger } from '../src/logger.ts';
import { adminCall } from './support/admin.ts';
import { send } from './support/client.ts';
import { uuid } from './support/env.ts';
import { type Stack, startStack } from './support/stack.ts';

/** One route of a Fastify instance and the names of the hooks it runs, its contexts' included, in order. */
interface RouteHooks {
  method: string;
  path: string;
  onRequest: string[];
  preHandler: string[];
}

/**
 * Every route of `app` (HEAD twins left out) with the hooks Fastify runs for it, read from its
 * route table (`printRoutes` with hooks: the hook lists the router holds after `ready`, so a hook
 * of an enclosing context shows on every route declared in it). The table is a tree, four
 * columns a level, each line the rest of its parent's path.
 */
function routeHooks(app: FastifyInstance): RouteHooks[] {
  const routes: RouteHooks[] = [];
  const paths: string[] = [];
  let current: RouteHooks[] = [];
  for (const line of app.printRoutes({ includeHooks: true, commonPrefix: false }).split('\n')) {
    const route = /^([│├└─ ]*)(\/\S*) \(([A-Z, ]+)\)$/u.exec(line);
    if (route?.[1] !== undefined && route[2] && route[3]) {
      const level = route[1].length / 4;
      const path = `${paths[level - 1] ?? ''}${route[2]}`;
      paths[level] = path;
      paths.length = level + 1;
      current = route[3]
        .split(', ')
        .filter((m) => m !== 'HEAD')
        .map((method) => ({ method, path, onRequest: [], preHandler: [] }));
      routes.push(...current);
      continue;
    }
    const hook = /• \((\w+)\) (\[.*\])$/u.exec(line);
    const kind = hook?.[1];
    if (hook?.[2] && (kind === 'onRequest' || kind === 'preHandler')) {
      const names = (JSON.parse(hook[2]) as string[]).map((n) => n.replace(/\(\)$/u, ''));
      for (const r of current) r[kind] = names;
    }
  }
  return routes;
}

/** A concrete URL for a route path (every parameter of the relay's routes is a UUID). */
const concrete = (path: string): string => path.replace(/:[A-Za-z]+/gu, () => uuid());

const ENROLL = `POST ${RELAY_ROUTES.enroll.path}`;

describe('route contexts: a route is authenticated by the context it is declared in', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack('sqlite');
  });
  afterAll(async () => s?.close());

  it('every /v1 route but enrolment runs admission, the early rate limit, then the device signature; enrolment and Antom run neither', () => {
    const table = routeHooks(s.relay.servers.public);
    const v1 = table.filter((r) => r.path.startsWith('/v1/'));
    // The table holds the whole client API (the enumeration found every route).
    expect(v1.map((r) => `${r.method.toLowerCase()} ${r.path}`).sort()).toEqual(
      Object.values(RELAY_ROUTES)
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    );
    for (const r of v1.filter((x) => `${x.method} ${x.path}` !== ENROLL)) {
      // The pay adds its own early refusals (pay bucket, start gate) after the context's, before its body is read.
      const pay = `${r.method} ${r.path}` === `POST ${RELAY_ROUTES.createPurchase.path}`;
      expect({ onRequest: r.onRequest, preHandler: r.preHandler }, `${r.method} ${r.path}`).toEqual({
        onRequest: ['draining503', 'admission', 'rateLimitedEarly', ...(pay ? ['payAdmission'] : [])],
        preHandler: ['deviceSignature'],
      });
    }
    const enroll = table.find((r) => `${r.method} ${r.path}` === ENROLL);
    expect(enroll).toMatchObject({ onRequest: ['draining503', 'admission', 'enrollThrottle'], preHandler: [] });
    // Antom signs its notifications (checked in their handler) and /healthz is a probe: admission
    // counts them, no device hook runs. Every route refuses first while the server closes (server.ts).
    const others = table.filter((r) => !r.path.startsWith('/v1/'));
    expect(others.map((r) => r.path).sort()).toEqual(['/antom/notify/authorization', '/antom/notify/payment', '/antom/notify/refund', '/healthz']);
    for (const r of others)
      expect({ path: r.path, onRequest: r.onRequest, preHandler: r.preHandler }).toEqual({
        path: r.path,
        onRequest: ['draining503', 'admission'],
        preHandler: [],
      });
  });

  it('answers an unsigned request to every /v1 route but enrolment with 401 DEVICE_UNAUTHORIZED, before validating its input', async () => {
    const routes = routeHooks(s.relay.servers.public).filter((r) => r.path.startsWith('/v1/') && `${r.method} ${r.path}` !== ENROLL);
    expect(routes.length).toBe(Object.keys(RELAY_ROUTES).length - 1);
    for (const r of routes) {
      // A body the handler would refuse (400) and no query: only the signature check answers 401.
      const res = await send(s.relay.url, r.method, concrete(r.path), r.method === 'GET' ? '' : '{}', {});
      expect({ route: `${r.method} ${r.path}`, status: res.status, body: res.body }).toMatchObject({
        route: `${r.method} ${r.path}`,
        status: 401,
        body: { error: { code: 'DEVICE_UNAUTHORIZED' } },
      });
    }
    // Enrolment stays public: its one-time code is its credential.
    const { code } = await s.relay.devices.createEnrollmentCode({ label: 'Unsigned', kind: 'kiosk', lifetimeMs: 60_000 });
    const enrol = await send(s.relay.url, 'POST', RELAY_ROUTES.enroll.path, JSON.stringify({ code }), {});
    expect(enrol.status).toBe(201);
  });

  it('every /admin/v1 route runs the admin token check; readiness, metrics and the OpenAPI document do not', async () => {
    const table = routeHooks(s.relay.servers.admin);
    const admin = table.filter((r) => r.path.startsWith('/admin/v1/'));
    expect(admin.length).toBeGreaterThanOrEqual(15);
    for (const r of admin) {
      expect({ route: `${r.method} ${r.path}`, preHandler: r.preHandler }).toEqual({ route: `${r.method} ${r.path}`, preHandler: ['adminAuthenticated'] });
      const res = await adminCall(s.relay.adminUrl, r.method, concrete(r.path), r.method === 'GET' ? undefined : {}, { token: null });
      expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({ route: `${r.method} ${r.path}`, status: 401 });
    }
    expect(
      table
        .filter((r) => !r.path.startsWith('/admin/v1/'))
        .map((r) => `${r.path} ${r.preHandler.join(',')}`)
        .sort(),
    ).toEqual(['/metrics ', '/openapi.json ', '/readyz ']);
  });
});

// The check above finds a route declared outside the signed-device context (what adding one
// next to the context by accident does): it runs no signature hook and answers unsigned.
it('the route-table check tells a route inside the signed-device context from one declared beside it', async () => {
  const app = createServer(createLogger('silent', new Writable({ write: (_c, _e, done) => done() })));
  const devices = {
    authenticate: async (): Promise<never> => {
      throw new DomainError('DEVICE_UNAUTHORIZED', 'missing signature headers');
    },
  };
  registerSignedDeviceContext(app, { devices }, (ctx) => {
    ctx.get('/v1/inside', async () => ({ ok: true }));
  });
  app.get('/v1/beside', async () => ({ ok: true }));
  await app.ready();
  const table = routeHooks(app);
  expect(table.find((r) => r.path === '/v1/inside')?.preHandler).toEqual(['deviceSignature']);
  expect(table.find((r) => r.path === '/v1/beside')?.preHandler).toEqual([]);
  expect((await app.inject({ method: 'GET', url: '/v1/inside' })).statusCode).toBe(401);
  expect((await app.inject({ method: 'GET', url: '/v1/beside' })).statusCode).toBe(200);
  await app.close();
});
