import type { BindingService } from '../binding-service.ts';
import type { Logger } from '../ports.ts';
import type { PurchaseService } from '../purchase-service.ts';
import type { StatusStreamHandlers } from './status-stream.ts';
import { RELAY_EVENTS } from '@scan-to-bind/shared/relay-api';

/**
 * Routes the relay's event stream into the services: `binding` events to the binding service,
 * `purchase` events to the purchase service, and a fresh binding sync on every reconnect. An
 * event whose data does not match its shared/relay-api schema (RELAY_EVENTS) is logged (by name only) and dropped; a service that fails on one
 * is logged, never an unhandled rejection (it would end main). One routing for the app and
 * for the end-to-end test host, so both run the same code.
 */
export function relayEventRouter(
  binding: Pick<BindingService, 'apply' | 'sync'>,
  purchases: Pick<PurchaseService, 'onRelayEvent'>,
  log: Logger,
): StatusStreamHandlers {
  return {
    onEvent: (ev) => {
      try {
        if (ev.event === 'binding') binding.apply(RELAY_EVENTS.binding.parse(JSON.parse(ev.data)));
        else if (ev.event === 'purchase') {
          // A failure to record it (a disk error on the pending file) is logged, never left
          // unhandled; the purchase is asked for again by its follow-up and on resume.
          purchases.onRelayEvent(RELAY_EVENTS.purchase.parse(JSON.parse(ev.data))).catch((error: unknown) => {
            log.warn('relay purchase event not applied', { error: String(error).slice(0, 200) });
          });
        }
      } catch {
        log.warn('unreadable relay event', { event: ev.event });
      }
    },
    onConnection: (up) => {
      if (up) {
        binding.sync().catch((error: unknown) => {
          log.warn('binding sync after reconnect failed', { error: String(error).slice(0, 200) });
        });
      }
    },
  };
}
