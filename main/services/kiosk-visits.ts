import { z } from 'zod';
import type { Clock, KioskVisitStore, Logger } from './ports.ts';
import { type BackoffPolicy, backoffDelay } from './relay/backoff.ts';
import { type RelayError, toRelayError } from './relay/errors.ts';
import type { RelayApi } from './relay/relay-api.ts';

/*
 * The kiosk's visit and the relay calls a reset owes (issue 14). Every visitor gets a fresh
 * random visit id, chosen here so a reset works with the relay down. A reset first writes the
 * new id and the calls that end the old visit to disk in one atomic write, then wipes the
 * screen's state without waiting on the network; the outbox is sent in the background, with
 * backoff, until the relay confirms each call. The relay refuses a kiosk purchase for any
 * visit but the binding's own, current one, so the old wallet stays out of reach even before
 * the outbox gets through.
 */

/** One relay call the outbox owes: tell the relay the new visit, or end one old binding. */
export type VisitOutboxItem = { readonly kind: 'rotate'; readonly visitId: string } | { readonly kind: 'end'; readonly bindingId: string };

const Item = z.union([
  z.strictObject({ kind: z.literal('rotate'), visitId: z.uuid() }),
  z.strictObject({ kind: z.literal('end'), bindingId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/u) }),
]);
const Doc = z.strictObject({ visitId: z.uuid(), outbox: z.array(Item).max(256) });
type Doc = z.infer<typeof Doc>;

/** At most this many `end` calls are kept; older ones are covered by the newest rotation anyway. */
const MAX_ENDS = 32;
/** Binding states that count as ended: the relay holds no usable token for them. */
const ENDED = new Set(['REVOKED', 'FAILED', 'EXPIRED', 'NONE']);

/** The relay calls the outbox makes. */
export type VisitRelay = Pick<RelayApi, 'rotateVisit' | 'revoke'>;

/** What the kiosk visits need. */
export interface KioskVisitsDeps {
  readonly store: KioskVisitStore;
  readonly relay: VisitRelay;
  readonly clock: Clock;
  readonly log: Logger;
  readonly newVisitId: () => string;
  /** Between outbox attempts (default 1 s doubling to 1 min). */
  readonly backoff?: BackoffPolicy;
  readonly random?: () => number;
}

/** How the relay's answer to one outbox call settles it. */
export type Delivery = 'done' | 'retry' | 'drop';

/**
 * The rule for an outbox call's outcome. Confirmed ('done'): the rotation answered 2xx, a
 * revoke answered a binding in an ended state. Also 'done': KIOSK_VISIT_ENDED on a rotation
 * (the id was used before; when it is the current one the outbox takes a fresh one), and 404
 * on a revoke — the relay does not know that binding for this device (a purged row or another
 * enrolment), so there is nothing of ours to revoke and retrying could never succeed; the
 * rotation ends whatever else is left. 'drop': a refusal no retry can change (400/422: a bug, logged as an error).
 * 'retry': no answer, 429, 5xx, 401/403 (an operator may enable the device again), a live state.
 */
export function settle(item: VisitOutboxItem, outcome: { state: string } | RelayError): Delivery {
  if (!('code' in outcome)) return item.kind === 'rotate' || ENDED.has(outcome.state) ? 'done' : 'retry';
  if (item.kind === 'rotate' && outcome.code === 'KIOSK_VISIT_ENDED') return 'done';
  if (item.kind === 'end' && (outcome.code === 'BINDING_NOT_FOUND' || outcome.code === 'NOT_FOUND')) return 'done';
  if (outcome.status === 400 || outcome.status === 422) return 'drop';
  return 'retry';
}

/** The kiosk's current visit and its durable outbox. */
export class KioskVisits {
  readonly #d: KioskVisitsDeps;
  #doc: Doc;
  #running = false;
  #attempt = 0;
  #timer: unknown = null;
  #wake: (() => void) | null = null;
  #disposed = false;
  readonly #idle = new Set<() => void>();

  private constructor(deps: KioskVisitsDeps, doc: Doc) {
    this.#d = deps;
    this.#doc = doc;
  }

  /** Reads the stored visit (a damaged or missing file starts a fresh one, written by the first rotate). */
  static async open(deps: KioskVisitsDeps): Promise<KioskVisits> {
    const raw = await deps.store.load().catch((error: unknown) => {
      deps.log.error('kiosk visit file unreadable', { error: String(error).slice(0, 200) });
      return null;
    });
    const parsed = Doc.safeParse(raw);
    if (raw !== null && !parsed.success) deps.log.warn('kiosk visit file invalid; starting a new visit', {});
    return new KioskVisits(deps, parsed.success ? parsed.data : { visitId: deps.newVisitId(), outbox: [] });
  }

  /** The current visit id (sent with bindings and purchases). */
  current(): string {
    return this.#doc.visitId;
  }

  /** The calls still owed to the relay, oldest first. */
  pending(): readonly VisitOutboxItem[] {
    return this.#doc.outbox;
  }

  /**
   * Starts a new visit: a fresh id, the old binding's end (when there is one) and the new
   * rotation queued, all in one durable write. A pending rotation is replaced (the newest one
   * ends every older visit). A failed write is logged and the new visit taken anyway: the
   * wipe must not wait, and the relay still refuses the old visit once it hears of the new one.
   */
  async rotate(endBindingId: string | null): Promise<string> {
    const visitId = this.#d.newVisitId();
    const ends = this.#doc.outbox.filter((i) => i.kind === 'end' && i.bindingId !== endBindingId);
    if (endBindingId) ends.push({ kind: 'end', bindingId: endBindingId });
    this.#doc = { visitId, outbox: [...ends.slice(-MAX_ENDS), { kind: 'rotate', visitId }] };
    await this.#save();
    this.#attempt = 0;
    return visitId;
  }

  /** Sends the outbox in the background until it is empty (safe to call at any time). */
  drain(): void {
    if (this.#disposed) return;
    if (this.#running) {
      this.#wake?.();
      return;
    }
    this.#running = true;
    void this.#run().finally(() => {
      this.#running = false;
    });
  }

  /** Resolves when the outbox is empty (tests and shutdown). */
  whenDrained(): Promise<void> {
    if (this.#doc.outbox.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  /** Stops retrying (the outbox stays on disk for the next start). */
  dispose(): void {
    this.#disposed = true;
    if (this.#timer !== null) this.#d.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (!this.#disposed) {
      const item = this.#doc.outbox[0];
      if (!item) break;
      const outcome = await this.#deliver(item);
      if (this.#disposed) return;
      if (outcome === 'taken' && item.kind === 'rotate' && item.visitId === this.#doc.visitId) {
        // The relay has seen this id before (a restored backup of the file): take a fresh one.
        await this.rotate(null);
        continue;
      }
      if (outcome === 'retry') {
        await this.#sleep(backoffDelay(this.#d.backoff ?? { baseMs: 1_000, maxMs: 60_000 }, this.#attempt++, this.#d.random));
        continue;
      }
      this.#attempt = 0;
      this.#doc = { ...this.#doc, outbox: this.#doc.outbox.filter((i) => i !== item) };
      await this.#save();
    }
    if (this.#doc.outbox.length === 0) for (const resolve of this.#idle) resolve();
    if (this.#doc.outbox.length === 0) this.#idle.clear();
  }

  async #deliver(item: VisitOutboxItem): Promise<Delivery | 'taken'> {
    let result: Delivery;
    let code: string | null = null;
    try {
      if (item.kind === 'rotate') await this.#d.relay.rotateVisit(item.visitId);
      result = settle(item, item.kind === 'rotate' ? { state: 'ROTATED' } : await this.#d.relay.revoke(item.bindingId));
    } catch (error) {
      const e = toRelayError(error);
      code = e.code;
      result = settle(item, e);
    }
    if (item.kind === 'rotate' && code === 'KIOSK_VISIT_ENDED') return 'taken';
    if (result === 'drop') this.#d.log.error('kiosk visit call refused for good; dropped', { kind: item.kind, code });
    else if (result === 'retry') this.#d.log.info('kiosk visit call will be retried', { kind: item.kind, code, attempt: this.#attempt + 1 });
    return result;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (this.#timer !== null) this.#d.clock.clearTimeout(this.#timer);
        this.#timer = null;
        this.#wake = null;
        resolve();
      };
      this.#wake = done;
      this.#timer = this.#d.clock.setTimeout(done, ms);
    });
  }

  async #save(): Promise<void> {
    try {
      await this.#d.store.save(this.#doc);
    } catch (error) {
      this.#d.log.error('kiosk visit file not written', { error: String(error).slice(0, 200) });
    }
  }
}

/**
 * Kiosk start. A restart is a new visit: whoever stood at the screen before the crash or the
 * update is not the next person there. So the stored visit is rotated (its binding ended at the
 * relay by the rotation, and any end an interrupted reset queued is still owed), the binding
 * reference is forgotten before anything is restored, and the outbox starts draining. Pending
 * purchases are money state and stay (the purchase service resumes them).
 */
export async function startKioskVisits(deps: KioskVisitsDeps, binding: { forgetVisit(): Promise<unknown> }): Promise<KioskVisits> {
  const visits = await KioskVisits.open(deps);
  await visits.rotate(null);
  await binding.forgetVisit();
  visits.drain();
  return visits;
}
