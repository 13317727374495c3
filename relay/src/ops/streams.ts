import type { StreamEndReason } from '@scan-to-bind/shared/relay-api';
import { RetryLaterError } from './overload.ts';

/** The two kinds of held connection: an SSE stream (GET /v1/events) and a long-poll. */
export type HeldKind = 'stream' | 'longPoll';

/**
 * Why the relay ends a held connection: `replaced` (a newer one of the same device took its
 * place), `lifetime` (a stream's maximum lifetime), `disabled` (the device was disabled),
 * `assertion-expired` (a launcher's player assertion reached its `exp`), `shutdown`.
 */
export type EndReason = StreamEndReason;

/** The caps of the registry (config.ts `limits`). */
export interface HeldLimits {
  maxStreamsPerDevice: number;
  maxStreams: number;
  maxLongPollsPerDevice: number;
  maxLongPolls: number;
}

/** One held connection as registered; `release` takes it out (idempotent). */
export interface HeldLease {
  release(): void;
}

interface Entry {
  kind: HeldKind;
  deviceId: string;
  end: (reason: EndReason) => void;
}

/** Retry-After (seconds) for a refusal at a global cap: held connections free slowly. */
const CAP_RETRY_AFTER_S: Record<HeldKind, number> = { stream: 5, longPoll: 1 };

/**
 * The held connections of this process, per device oldest first, with per-device and global
 * caps per kind. These are outside admission control's in-flight count (`Admission`): a held
 * connection waits and costs a socket, not work, and counted there 9 kiosks' long-polls made
 * every other request 503 (issue 14). Rules:
 * - a device at its cap that opens one more ends its own oldest (`replaced`) and keeps the new;
 * - at a global cap the new one is refused (503 OVERLOADED with Retry-After): another device's
 *   connection is never ended for it;
 * - `endDevice` ends every connection of a device (it was disabled), `endAll` every one.
 * Ending calls the connection's own `end` (which answers it) and takes it out at once.
 */
export class HeldRegistry {
  readonly #byDevice = new Map<string, Entry[]>();
  readonly #counts: Record<HeldKind, number> = { stream: 0, longPoll: 0 };

  constructor(private readonly limits: HeldLimits) {}

  /** Held connections of `kind` in this process now. */
  count(kind: HeldKind): number {
    return this.#counts[kind];
  }

  /** Devices with at least one held connection (for the periodic disabled-device check). */
  devices(): string[] {
    return [...this.#byDevice.keys()];
  }

  /**
   * Registers a new held connection of `deviceId`, or throws OVERLOADED at the global cap.
   * `end` is called (once) if the relay ends it; the caller calls `release` when it ends for
   * any other reason (answered, client gone).
   */
  open(kind: HeldKind, deviceId: string, end: (reason: EndReason) => void): HeldLease {
    const perDevice = kind === 'stream' ? this.limits.maxStreamsPerDevice : this.limits.maxLongPollsPerDevice;
    const global = kind === 'stream' ? this.limits.maxStreams : this.limits.maxLongPolls;
    const mine = (this.#byDevice.get(deviceId) ?? []).filter((e) => e.kind === kind);
    // Replacing its own oldest keeps the total where it is, so it is allowed at the global cap.
    if (mine.length < perDevice && this.#counts[kind] >= global) throw new RetryLaterError('OVERLOADED', CAP_RETRY_AFTER_S[kind]);
    for (const old of mine.slice(0, mine.length - perDevice + 1)) this.#end(old, 'replaced');
    const entry: Entry = { kind, deviceId, end };
    const list = this.#byDevice.get(deviceId) ?? [];
    list.push(entry);
    this.#byDevice.set(deviceId, list);
    this.#counts[kind] += 1;
    return { release: () => this.#remove(entry) };
  }

  /** Ends every held connection of a device (disabled). */
  endDevice(deviceId: string, reason: EndReason): void {
    for (const e of [...(this.#byDevice.get(deviceId) ?? [])]) this.#end(e, reason);
  }

  /** Ends every held connection (shutdown). */
  endAll(reason: EndReason): void {
    for (const id of this.devices()) this.endDevice(id, reason);
  }

  #end(entry: Entry, reason: EndReason): void {
    if (!this.#remove(entry)) return;
    entry.end(reason);
  }

  /** Takes an entry out; false when it was already out. */
  #remove(entry: Entry): boolean {
    const list = this.#byDevice.get(entry.deviceId);
    const at = list?.indexOf(entry) ?? -1;
    if (!list || at < 0) return false;
    list.splice(at, 1);
    if (list.length === 0) this.#byDevice.delete(entry.deviceId);
    this.#counts[entry.kind] -= 1;
    return true;
  }
}
