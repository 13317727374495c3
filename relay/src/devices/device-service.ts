import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DomainError } from '@scan-to-bind/shared/domain';
import type { Clock } from '../clock.ts';
import { isUniqueViolation, type Store } from '../store/db.ts';
import { deviceSecretContext } from '../store/seal-context.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { MAX_CLOCK_SKEW_MS, verifyClientSignature } from './client-signature.ts';
import { DeviceRepo, type DeviceRow } from './device-repo.ts';
import type { Player, PlayerAssertionVerifier } from './player-assertion.ts';

/** A launcher names its player with a studio assertion; a kiosk serves anonymous visitors. */
export type DeviceKind = 'launcher' | 'kiosk';

/** The identity behind an authenticated client request. */
export interface Caller {
  deviceId: string;
  kind: DeviceKind;
  player?: Player;
  /** Whose bindings and purchases these are: `player:<sub>` for launchers, `device:<id>` for kiosks. */
  owner: string;
  /**
   * Set when authentication left two checks to the request's own first transaction (a pay,
   * `deferToPay`: PurchaseRepo.begin): the nonce to record (a replay is refused there) and the device's
   * enrolment to re-check (its credentials came from memory). Undefined when both were done.
   */
  unrecorded?: { nonce: string; seenAt: number };
}

/** A device's enrolment as authentication needs it: sealed secret and kind (never change for an id). */
type Credentials = Pick<DeviceRow, 'kind' | 'key_id' | 'secret_enc'>;

/** How many devices' credentials are kept in memory for deferred authentication (oldest dropped first). */
const KNOWN_DEVICES = 10_000;

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function normaliseCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/gu, '');
}

function hashCode(code: string): string {
  return createHash('sha256').update(normaliseCode(code), 'utf8').digest('hex');
}

/** Device enrolment and request authentication. */
export class DeviceService {
  readonly #repo: DeviceRepo;
  readonly #box: SecretBox;
  readonly #clock: Clock;
  readonly #players: PlayerAssertionVerifier | undefined;
  readonly #deferToPay: ((method: string, pathWithQuery: string) => boolean) | undefined;
  /** Sealed credentials of devices seen enrolled (only read for requests `deferToPay` accepts). */
  readonly #known = new Map<string, Credentials>();

  /**
   * `deferToPay` names the requests whose handler records the nonce and re-checks the device's
   * enrolment in its own first transaction (the pay: PurchaseRepo.begin), so their
   * authentication sends nothing to the database once the device is known.
   */
  constructor(deps: {
    store: Store;
    box: SecretBox;
    clock: Clock;
    players?: PlayerAssertionVerifier | undefined;
    deferToPay?: ((method: string, pathWithQuery: string) => boolean) | undefined;
  }) {
    this.#repo = new DeviceRepo(deps.store);
    this.#box = deps.box;
    this.#clock = deps.clock;
    this.#players = deps.players;
    this.#deferToPay = deps.deferToPay;
  }

  /** Mints a one-time enrolment code (printed by the CLI); only its hash is stored. */
  async createEnrollmentCode(input: { label: string; kind: DeviceKind; lifetimeMs: number }): Promise<{ code: string; expiresAt: number }> {
    const bytes = randomBytes(15);
    let raw = '';
    for (const b of bytes) raw += CODE_ALPHABET[b % CODE_ALPHABET.length];
    const code = raw.match(/.{5}/gu)?.join('-') ?? raw;
    const now = this.#clock.now();
    const expiresAt = now + input.lifetimeMs;
    await this.#repo.addEnrollmentCode({
      code_hash: hashCode(code),
      label: input.label,
      kind: input.kind,
      created_at: now,
      expires_at: expiresAt,
      used_at: null,
      device_id: null,
    });
    return { code, expiresAt };
  }

  /** Redeems a code once: creates the device and returns its id and secret (shown only now). */
  async enroll(input: { code: string; label?: string | undefined }): Promise<{ deviceId: string; deviceSecret: string; kind: DeviceKind }> {
    const now = this.#clock.now();
    const deviceId = randomUUID();
    const deviceSecret = randomBytes(32).toString('base64url');
    const sealed = this.#box.seal(deviceSecret, deviceSecretContext(deviceId));
    const device = await this.#repo.enroll(hashCode(input.code), now, deviceId, (claimed) => ({
      id: deviceId,
      label: input.label ?? claimed.label,
      kind: claimed.kind,
      secret_enc: sealed.data,
      key_id: sealed.keyId,
      created_at: now,
      revoked_at: null,
      visit_id: null,
    }));
    return { deviceId, deviceSecret, kind: device.kind };
  }

  /**
   * Authenticates a signed client request. Checks, in order: headers present and well formed,
   * device enrolled, HMAC over the canonical string (which covers the X-Player-Assertion
   * header), timestamp within 5 minutes, player assertion (launchers; pinned to this device by
   * its `did`), then records the nonce (its primary key rejects a replay). Nothing is written
   * for a request that fails any earlier check. For a request `deferToPay` accepts, the device
   * row may come from memory and the nonce is not recorded here: the returned Caller carries it
   * (`unrecorded`) and the handler's first transaction records it and re-checks the enrolment.
   */
  async authenticate(req: { method: string; pathWithQuery: string; headers: Record<string, string | string[] | undefined>; rawBody: Buffer }): Promise<Caller> {
    const h = (name: string): string | undefined => {
      const v = req.headers[name];
      return typeof v === 'string' ? v : undefined;
    };
    const deviceId = h('x-device-id');
    const timestamp = h('x-timestamp');
    const nonce = h('x-nonce');
    const signature = h('x-signature');
    if (!deviceId || !timestamp || !nonce || !signature) throw new DomainError('DEVICE_UNAUTHORIZED', 'missing signature headers');
    if (!/^[0-9a-f-]{36}$/u.test(deviceId) || !/^\d{1,16}$/u.test(timestamp) || !/^[A-Za-z0-9_-]{22,128}$/u.test(nonce)) {
      throw new DomainError('DEVICE_UNAUTHORIZED', 'malformed signature headers');
    }
    if (Buffer.from(nonce, 'base64url').length < 16) throw new DomainError('DEVICE_UNAUTHORIZED', 'nonce too short');
    const deferred = this.#deferToPay?.(req.method, req.pathWithQuery) === true;
    const device = (deferred ? this.#known.get(deviceId) : undefined) ?? (await this.#enrolled(deviceId));
    const secret = this.#box.open({ keyId: device.key_id, data: device.secret_enc }, deviceSecretContext(deviceId));
    // The assertion header is read once: the value the signature covers is the value verified below.
    const assertion = h('x-player-assertion');
    if (assertion === undefined && req.headers['x-player-assertion'] !== undefined) {
      throw new DomainError('PLAYER_UNAUTHORIZED', 'more than one player assertion header');
    }
    const input = { method: req.method, pathWithQuery: req.pathWithQuery, timestamp, nonce, body: req.rawBody, playerAssertion: assertion };
    if (!verifyClientSignature(secret, input, signature)) throw new DomainError('DEVICE_UNAUTHORIZED', 'bad signature');
    const now = this.#clock.now();
    if (Math.abs(now - Number(timestamp)) > MAX_CLOCK_SKEW_MS) throw new DomainError('REQUEST_EXPIRED', 'timestamp out of range');
    let player: Player | undefined;
    if (device.kind === 'launcher') {
      if (!this.#players) throw new DomainError('PLAYER_UNAUTHORIZED', 'no studio key configured');
      player = await this.#players.verify(assertion, deviceId);
    }
    const owner = player ? `player:${player.id}` : `device:${deviceId}`;
    if (deferred) return { deviceId, kind: device.kind, owner, ...(player ? { player } : {}), unrecorded: { nonce, seenAt: now } };
    try {
      await this.#repo.recordNonce(deviceId, nonce, now);
    } catch (err) {
      if (isUniqueViolation(err)) throw new DomainError('REQUEST_REPLAYED', 'nonce reused');
      throw err;
    }
    return { deviceId, kind: device.kind, owner, ...(player ? { player } : {}) };
  }

  /** Reads an enrolled device (DEVICE_NOT_ENROLLED otherwise) and remembers its credentials. */
  async #enrolled(deviceId: string): Promise<Credentials> {
    const device = await this.#repo.get(deviceId);
    if (!device || device.revoked_at !== null) throw new DomainError('DEVICE_NOT_ENROLLED', 'unknown device');
    if (this.#deferToPay) {
      if (this.#known.size >= KNOWN_DEVICES) this.#known.delete(this.#known.keys().next().value as string);
      this.#known.set(deviceId, { kind: device.kind, key_id: device.key_id, secret_enc: device.secret_enc });
    }
    return device;
  }

  /** Which of `ids` are disabled now (one query; the periodic check of held connections). */
  async disabledAmong(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return this.#repo.disabledAmong(ids);
  }

  /** The newest devices (admin API). */
  list(limit: number): Promise<DeviceRow[]> {
    return this.#repo.list(limit);
  }

  /** Disables a device: its requests are refused from now on. NOT_FOUND when unknown. */
  async disable(id: string): Promise<DeviceRow> {
    const row = await this.#repo.disable(id, this.#clock.now());
    if (!row) throw new DomainError('NOT_FOUND');
    return row;
  }

  /** Forgets nonces old enough that their timestamp would be refused anyway. */
  async pruneNonces(): Promise<void> {
    await this.#repo.pruneNonces(this.#clock.now() - 2 * MAX_CLOCK_SKEW_MS);
  }
}
