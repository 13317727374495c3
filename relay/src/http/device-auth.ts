import { DomainError } from '@scan-to-bind/shared/domain';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller, DeviceService } from '../devices/device-service.ts';
import { type RateLimiter, type Refusal, refusalError } from '../ops/overload.ts';

/** What the signed-device context authenticates with. */
export interface DeviceAuth {
  devices: Pick<DeviceService, 'authenticate'>;
  /** Requests per device (absent: unlimited). */
  limiter?: RateLimiter | undefined;
}

/**
 * The early refusal of the signed-device context (its `onRequest` hook, before the body is
 * read): a device whose bucket is empty gets 429 without the database read, decryption and HMAC
 * of `deviceSignature`. It only reads the bucket; `deviceSignature` spends the token.
 */
export function rateLimitedEarly(limiter?: RateLimiter) {
  // A callback hook: it never waits, and an async one costs a promise per request (issue 17).
  return function rateLimitedEarly(req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
    done(refusalError(deviceRefusal(limiter, req.headers['x-device-id'])));
  };
}

/**
 * The early rate limit's rule: RATE_LIMITED while the device named by `deviceId` (the
 * X-Device-Id header, not yet authenticated) has no token in `limiter`. Read-only.
 */
export function deviceRefusal(limiter: RateLimiter | undefined, deviceId: string | string[] | undefined): Refusal | undefined {
  return typeof deviceId === 'string' ? limiter?.refusal(`device:${deviceId}`) : undefined;
}

/**
 * The signature check of the signed-device context (its `preHandler` hook: after the body is
 * read, since the signature covers the exact bytes; before the handler validates anything, so
 * an unsigned request learns nothing about its input). See DeviceService.authenticate.
 */
export function deviceSignature(devices: DeviceAuth['devices'], limiter?: RateLimiter) {
  return async function deviceSignature(req: FastifyRequest): Promise<void> {
    req.caller = await devices.authenticate({
      method: req.method,
      pathWithQuery: req.url,
      headers: req.headers,
      rawBody: req.rawBody,
    });
    limiter?.take(`device:${req.caller.deviceId}`);
  };
}

/**
 * Registers `routes` in the signed-device context: an encapsulated Fastify context whose hooks
 * authenticate every route declared in it (and in any context nested in it), so a device route
 * carries no auth option of its own and cannot be added without one. The hooks run after the
 * public listener's admission control (a root hook): admission, early rate limit, body limit and
 * parse, signature, then the handler's validation. relay/test/http-route-contexts.test.ts reads
 * Fastify's route table to check that every `/v1` route but enrolment runs them.
 */
export function registerSignedDeviceContext(app: FastifyInstance, auth: DeviceAuth, routes: (ctx: FastifyInstance) => void): void {
  void app.register(async function signedDeviceContext(ctx) {
    ctx.addHook('onRequest', rateLimitedEarly(auth.limiter));
    ctx.addHook('preHandler', deviceSignature(auth.devices, auth.limiter));
    routes(ctx);
  });
}

/** The authenticated caller of a request in the signed-device context. */
export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw new DomainError('DEVICE_UNAUTHORIZED');
  return req.caller;
}
