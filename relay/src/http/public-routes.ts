import { EnrollRequestSchema, NoQuerySchema } from '@scan-to-bind/shared/relay-api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeviceService } from '../devices/device-service.ts';
import type { RateLimiter } from '../ops/overload.ts';
import { type AntomRouteDeps, registerAntomRoutes } from './antom-routes.ts';

/** What the public context needs. */
export interface PublicRouteDeps {
  devices: Pick<DeviceService, 'enroll'>;
  /** Enrolment attempts per source address (absent: unlimited). */
  enrollLimiter?: RateLimiter | undefined;
  antom: AntomRouteDeps;
}

/**
 * The public context of the public listener: the routes no device signs. Enrolment (a one-time
 * code is its credential), liveness (a load balancer's probe) and Antom's notifications (signed
 * by Antom, checked in antom-routes.ts). Every other `/v1` route is in the signed-device context
 * (client-routes.ts). Admission control (a root hook, ops-routes.ts) counts these too; it never
 * refuses Antom's notifications.
 */
export function registerPublicRoutes(app: FastifyInstance, deps: PublicRouteDeps): void {
  void app.register(async function publicContext(ctx) {
    // Every attempt spends a token of its source address before the body is read or the database
    // asked, so guessing codes from one address is throttled while other addresses enrol.
    const enrollThrottle = async function enrollThrottle(req: FastifyRequest): Promise<void> {
      deps.enrollLimiter?.take(`enroll:${req.ip}`);
    };
    ctx.post('/v1/devices/enroll', { onRequest: enrollThrottle }, async (req, reply) => {
      NoQuerySchema.parse(req.query);
      const body = EnrollRequestSchema.parse(req.body);
      const enrolled = await deps.devices.enroll(body);
      return reply.code(201).send(enrolled);
    });

    ctx.get('/healthz', async () => ({ status: 'ok' }));

    registerAntomRoutes(ctx, deps.antom);
  });
}
