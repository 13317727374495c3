import { type EventName, type EventPayload, events, parseEventPayload } from '@scan-to-bind/shared/ipc';

/** A web contents main can push to. */
export interface PushTarget {
  readonly id: number;
  isDestroyed(): boolean;
  send(channel: string, payload: unknown): void;
}

/** Pushes one event (validated against the contract) to every live trusted window. */
export type Push = <K extends EventName>(name: K, payload: EventPayload<K>) => void;

/**
 * Builds the push function: the payload is checked against the event schema (main checks its
 * own output), then sent with `webContents.send` to trusted windows only.
 */
export function createPush(
  targets: () => readonly PushTarget[],
  isTrusted: (id: number) => boolean,
  log: (m: string, f: Record<string, unknown>) => void,
): Push {
  return (name, payload) => {
    const parsed = parseEventPayload(name, payload);
    if (parsed === undefined) {
      log('push payload does not match the contract', { event: name });
      return;
    }
    for (const t of targets()) {
      if (!t.isDestroyed() && isTrusted(t.id)) t.send(events[name].channel, parsed);
    }
  };
}
