import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { registerAdminRoutes } from './admin/routes.ts';
import { sendAntom } from './api/pipeline.ts';
import { fail, unknown } from './api/result.ts';
import { registerApiRoutes } from './api/routes.ts';
import { logRequest, type SandboxContext } from './core/context.ts';
import { installRawBodyParser } from './core/raw-body.ts';
import { registerHomeRoutes } from './home/routes.ts';
import { registerWalletRoutes } from './wallet/routes.ts';

/**
 * Builds the HTTP server: exact-bytes body parsing, the Antom API, the wallet pages, the
 * admin API and the public key. Bad input never produces a 5xx: under /ams it is answered
 * Antom-style (HTTP 200, F, PARAM_ILLEGAL); an unexpected fault inside the sandbox is U /
 * UNKNOWN_EXCEPTION, which tells the caller to inquire, as Antom would.
 */
export function buildServer(ctx: SandboxContext): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024 * 1024,
    forceCloseConnections: true,
    return503OnClosing: false,
    routerOptions: { maxParamLength: 200 },
  });
  installRawBodyParser(app);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    const path = req.raw.url ?? req.url;
    if (path.startsWith('/ams/')) {
      const body = status < 500 ? fail('PARAM_ILLEGAL', 'the request is malformed') : unknown('UNKNOWN_EXCEPTION', 'unknown exception');
      if (status >= 500) console.error('[sandbox] unexpected error', err);
      logRequest(ctx, {
        at: ctx.clock.now(),
        method: req.method,
        path,
        verification: 'NOT_CHECKED',
        resultStatus: body.result.resultStatus,
        resultCode: body.result.resultCode,
        bodyExcerpt: '',
      });
      // Signed like every answer of the message layer to a known client, as at Antom: only a
      // refused signature or an unknown client id goes unsigned.
      return sendAntom(ctx, reply, path, body, req.headers['client-id'] === ctx.clientId);
    }
    if (status >= 500) console.error('[sandbox] unexpected error', err);
    return reply.code(status < 500 ? status : 400).send({ error: status < 500 ? err.message : 'bad request' });
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.raw.url ?? req.url;
    if (path.startsWith('/ams/')) {
      return reply
        .code(404)
        .header('content-type', 'application/json; charset=UTF-8')
        .send(JSON.stringify(fail('NO_INTERFACE_DEF', `no API is defined for ${req.method} ${path.slice(0, 200)}`)));
    }
    return reply.code(404).send({ error: 'not found' });
  });

  app.get('/sandbox/public-key.pem', (_req, reply) => reply.header('content-type', 'application/x-pem-file').send(ctx.keys.publicKeyPem));
  app.get('/health', (_req, reply) => reply.send({ ok: true }));
  registerApiRoutes(app, ctx);
  registerHomeRoutes(app, ctx);
  registerWalletRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  return app;
}
