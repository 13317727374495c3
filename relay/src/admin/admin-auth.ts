import { createHash, timingSafeEqual } from 'node:crypto';
import { DomainError } from '@scan-to-bind/shared/domain';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const DEVICE_HEADERS = ['x-device-id', 'x-signature', 'x-nonce', 'x-player-assertion'];

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The admin API's own credential: `Authorization: Bearer <admin token>`. A request carrying
 * any device credential header is refused outright (a device can never act as an operator),
 * as is a missing or wrong token, or any request when no admin token is configured.
 * Tokens are compared as SHA-256 digests in constant time.
 */
export function adminAuthenticated(token: string | undefined) {
  const expected = token ? digest(token) : undefined;
  return async function adminAuthenticated(req: FastifyRequest): Promise<void> {
    if (DEVICE_HEADERS.some((h) => req.headers[h] !== undefined)) {
      throw new DomainError('DEVICE_UNAUTHORIZED', 'device credentials are not accepted by the admin API');
    }
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/u.exec(header) : null;
    if (!expected || !match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new DomainError('DEVICE_UNAUTHORIZED', 'admin token missing or wrong');
    }
  };
}

/**
 * Registers `routes` in the admin context of the admin listener: an encapsulated Fastify context
 * whose `preHandler` hook (`adminAuthenticated`) checks the admin token on every route declared
 * in it, so an admin route carries no auth option of its own. Readiness, metrics and the OpenAPI
 * document stay outside it (unauthenticated, on the loopback listener). A preHandler, as the
 * per-route option was: the body limit and JSON parse answer first, the handler's validation
 * after. relay/test/http-route-contexts.test.ts checks that every `/admin/v1` route runs it.
 */
export function registerAdminContext(app: FastifyInstance, token: string | undefined, routes: (ctx: FastifyInstance) => void): void {
  void app.register(async function adminContext(ctx) {
    ctx.addHook('preHandler', adminAuthenticated(token));
    routes(ctx);
  });
}
