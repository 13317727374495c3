import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../core/context.ts';
import { isLoopback } from '../core/net.ts';
import { pickLocale, sendHtml } from '../wallet/routes.ts';
import { homePage } from './page.ts';

/**
 * `GET /`: the sandbox's home page. Loopback only, like the admin API: it lists every open code,
 * and anyone who can read a code can authorize it, so a phone on the LAN (`--lan`) reaches only
 * the phone page of the code it scanned.
 */
export function registerHomeRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.get('/', async (req, reply) => {
    if (!isLoopback(req.socket.remoteAddress)) return reply.code(403).send({ error: 'the home page answers loopback clients only' });
    const host = typeof req.headers.host === 'string' && /^[A-Za-z0-9.:[\]-]{1,255}$/u.test(req.headers.host) ? req.headers.host : '127.0.0.1';
    return sendHtml(reply, await homePage(ctx, pickLocale(req), `http://${host}`));
  });
}
