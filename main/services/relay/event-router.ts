import type { BindingService } from '../binding-service.ts';
import type { Logger } from '../ports.ts';
import type { PurchaseService } from '../purchase-service.ts';
import type { StatusStreamHandlers } from './status-stream.ts';
import { BindingEventData, PurchaseEventData } from './wire.ts';

/**
 * Routes the relay's event stream into the services: `binding` events to the binding service,
 * `purchase` events to the purchase service, and a fresh binding sync on every reconnect. An
 * event that does not parse is logged (by name only) and dropped. One routing for the app and
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
        if (ev.event === 'binding') binding.apply(BindingEventData.parse(JSON.parse(ev.data)));
        else if (ev.event === 'purchase') void purchases.onRelayEvent(PurchaseEventData.parse(JSON.parse(ev.data)));
      } catch {
        log.warn('unreadable relay event', { event: ev.event });
      }
    },
    onConnection: (up) => {
      if (up) void binding.sync();
    },
  };
}
