import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KeyObject } from 'node:crypto';
import { NotificationDedupe, notificationKey } from '../antom/notification-dedupe.ts';
import { NotificationRepo } from '../antom/notification-repo.ts';
import { checkRequestTime, NOTIFICATION_ACK, verifyNotification } from '../antom/notification-verifier.ts';
import type { AuthorizationNotifications, NotificationOutcome } from '../bindings/authorization-notifications.ts';
import type { PaymentNotifications } from '../payments/payment-notifications.ts';
import type { RefundNotifications } from '../refunds/refund-notifications.ts';
import type { Store } from '../store/db.ts';
import type { NotificationDedupeTable } from '../store/schema.ts';
import type { Clock } from '../clock.ts';

/** The notification paths, relative to the relay's public URL. */
export const NOTIFY_PATHS = {
  authorization: '/antom/notify/authorization',
  payment: '/antom/notify/payment',
  refund: '/antom/notify/refund',
} as const;

const REFUSED = '{"result":{"resultCode":"INVALID_SIGNATURE","resultStatus":"F","resultMessage":"signature not verified"}}';
const STALE = '{"result":{"resultCode":"INVALID_REQUEST_TIME","resultStatus":"F","resultMessage":"request-time outside the accepted window"}}';

/** What Antom's notification routes need. */
export interface AntomRouteDeps {
  antomPublicKey: KeyObject;
  clientId: string;
  publicPathPrefix: () => string;
  authorization: AuthorizationNotifications;
  payment: PaymentNotifications;
  refund: RefundNotifications;
  store: Store;
  clock: Clock;
}

/**
 * Antom's notifications. The signature is checked over the relay's own public path (the path
 * Antom was given), the exact body and the request-time header; an unverified notification
 * gets 401 and changes nothing. A verified one whose request-time is older than 25 h or more
 * than 5 min ahead (notification-verifier.ts) is a replay and gets 401 INVALID_REQUEST_TIME.
 * One already handled (same kind and identity, notification-dedupe.ts) is acknowledged and
 * changes nothing; any other is handled. Every accepted delivery is recorded for audit and
 * acknowledged with the exact SUCCESS body (Antom stops re-sending only on that answer). They live in the public context
 * (public-routes.ts): Antom signs them, no device does.
 */
export function registerAntomRoutes(app: FastifyInstance, deps: AntomRouteDeps): void {
  const records = new NotificationRepo(deps.store);
  const dedupe = new NotificationDedupe(records);
  const route = (kind: keyof typeof NOTIFY_PATHS, handle: (body: Record<string, unknown>) => Promise<NotificationOutcome>) => {
    app.post(NOTIFY_PATHS[kind], async (req: FastifyRequest, reply) => {
      const header = (name: string): string | undefined => {
        const v = req.headers[name];
        return typeof v === 'string' ? v : undefined;
      };
      const ok = verifyNotification({
        antomPublicKey: deps.antomPublicKey,
        expectedClientId: deps.clientId,
        path: `${deps.publicPathPrefix()}${NOTIFY_PATHS[kind]}`,
        headers: { clientId: header('client-id'), requestTime: header('request-time'), signature: header('signature') },
        rawBody: req.rawBody.toString('utf8'),
      });
      if (!ok || typeof req.body !== 'object' || req.body === null) {
        req.log.warn({ kind }, 'antom notification refused: signature not verified');
        return reply.code(401).type('application/json').send(REFUSED);
      }
      const time = checkRequestTime(header('request-time'), deps.clock.now());
      if (time !== 'ok') {
        req.log.warn({ kind, time }, 'antom notification refused: request-time outside the accepted window');
        return reply.code(401).type('application/json').send(STALE);
      }
      const body = req.body as Record<string, unknown>;
      const key = notificationKey(kind, body);
      let outcome: NotificationOutcome;
      let keyRow: NotificationDedupeTable | undefined;
      if (key !== undefined && (await dedupe.seen(kind, key))) outcome = 'duplicate';
      else {
        outcome = await handle(body);
        if (key !== undefined) keyRow = dedupe.keyRow(kind, key, outcome, deps.clock.now());
      }
      // The key (after the handler committed) and the audit row are not money state (the handler
      // committed that, fully): one relaxed commit for both (NotificationRepo.record).
      await records.record(keyRow, { id: randomUUID(), kind, ref: null, outcome, received_at: deps.clock.now() });
      // Routine outcomes (applied, duplicate: one per pay) at debug, so logging at info costs
      // nothing per successful pay (issue 17); the audit row above keeps every outcome.
      req.log[outcome === 'applied' || outcome === 'duplicate' ? 'debug' : 'info']({ kind, outcome }, 'antom notification');
      return reply.code(200).type('application/json').send(NOTIFICATION_ACK);
    });
  };
  route('authorization', (b) => deps.authorization.handle(b));
  route('payment', (b) => deps.payment.handle(b));
  route('refund', (b) => deps.refund.handle(b));
}
