/** An enrolled PC (launcher) or kiosk. Its HMAC secret is sealed with the SecretBox. */
export interface DevicesTable {
  id: string;
  label: string;
  kind: 'launcher' | 'kiosk';
  secret_enc: string;
  key_id: string;
  created_at: number;
  revoked_at: number | null;
  /** A kiosk's current visit (the last one it reported); null before the first. */
  visit_id: string | null;
}

/** One-time enrolment codes (only their hash is stored). */
export interface EnrollmentCodesTable {
  code_hash: string;
  label: string;
  kind: 'launcher' | 'kiosk';
  created_at: number;
  expires_at: number;
  used_at: number | null;
  device_id: string | null;
}

/** Nonces seen per device; the primary key rejects a replay even across relay processes. */
export interface NoncesTable {
  device_id: string;
  nonce: string;
  seen_at: number;
}

/** One wallet binding. Tokens and the auth code are sealed; `key_id` names the sealing key. */
export interface BindingsTable {
  id: string;
  owner: string;
  device_id: string;
  player_id: string | null;
  wallet: string;
  state: string;
  version: number;
  error_code: string | null;
  auth_state: string | null;
  code_value: string | null;
  code_expires_at: number | null;
  refreshes_left: number;
  key_id: string | null;
  auth_code_enc: string | null;
  auth_code_at: number | null;
  access_token_enc: string | null;
  access_token_hash: string | null;
  access_token_expires_at: number | null;
  refresh_token_enc: string | null;
  refresh_token_expires_at: number | null;
  masked_account: string | null;
  account_ref: string | null;
  next_action_at: number | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
  activated_at: number | null;
  touched_at: number;
  /** The kiosk visit the binding was created in; null for launchers (and kiosks before visits). */
  visit_id: string | null;
}

/** Every visit a kiosk reported; an ended one is never current again. */
export interface KioskVisitsTable {
  visit_id: string;
  device_id: string;
  started_at: number;
  ended_at: number | null;
}

/** Every authState ever sent in a consult, so a late authorization can be recognised. */
export interface AuthStatesTable {
  auth_state: string;
  binding_id: string;
  wallet: string;
  status: 'current' | 'withdrawn' | 'replaced' | 'expired' | 'used';
  created_at: number;
}

/** Outbox of tokens to revoke at Antom (our unlink, kiosk visit end, late authorizations). */
export interface TokenRevocationsTable {
  id: string;
  reason: string;
  binding_id: string | null;
  auth_state: string | null;
  wallet: string;
  key_id: string;
  auth_code_enc: string | null;
  access_token_enc: string | null;
  state: 'PENDING_TOKEN' | 'PENDING_REVOKE' | 'DONE' | 'FAILED';
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_code: string | null;
  created_at: number;
  updated_at: number;
}

/** One purchase intent = one paymentRequestId. Amounts in minor units. */
export interface PurchasesTable {
  intent_id: string;
  owner: string;
  device_id: string;
  player_id: string | null;
  binding_id: string;
  wallet: string;
  account_ref: string | null;
  sku: string;
  quantity: number;
  request_hash: string;
  currency: string;
  amount_minor: number;
  state: string;
  version: number;
  payment_request_id: string;
  payment_id: string | null;
  result_code: string | null;
  error_code: string | null;
  created_at: number;
  updated_at: number;
  submitted_at: number | null;
  expires_at: number | null;
  paid_at: number | null;
  finished_at: number | null;
  next_check_at: number | null;
  lease_until: number | null;
  inquiries: number;
  cancel_attempts: number;
  unresolved_reported_at: number | null;
  touched_at: number;
  /**
   * The lookup hash of the access token the pay was sent with (bindings.access_token_hash when
   * the pay began): a refusal INVALID_ACCESS_TOKEN marks that token dead, never a newer one
   * (BindingRepo.markTokenDead). Null on rows written before migration 0010.
   */
  access_token_hash: string | null;
}

/** Received Antom notifications (verified), for audit; no secrets are stored. */
export interface NotificationsTable {
  id: string;
  kind: string;
  ref: string | null;
  outcome: string;
  received_at: number;
}

/** Identities of handled Antom notifications (SHA-256 of kind-specific fields), for deduplication. */
export interface NotificationDedupeTable {
  kind: string;
  notification_key: string;
  outcome: string;
  received_at: number;
}

/** One refund of a purchase; `refund_request_id` is Antom's idempotency key. Amounts in minor units. */
export interface RefundsTable {
  refund_request_id: string;
  intent_id: string;
  owner: string;
  payment_id: string;
  currency: string;
  amount_minor: number;
  reason: string | null;
  state: string;
  version: number;
  refund_id: string | null;
  result_code: string | null;
  error_code: string | null;
  created_at: number;
  updated_at: number;
  refunded_at: number | null;
  finished_at: number | null;
  next_check_at: number | null;
  lease_until: number | null;
  attempts: number;
}

/** Fulfilment events to deliver to the game server; one per purchase (`intent_id` unique). */
export interface FulfilmentOutboxTable {
  event_id: string;
  intent_id: string;
  target: string;
  payload: string;
  state: string;
  attempts: number;
  next_attempt_at: number | null;
  lease_until: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

/** Customs declarations (Antom's declare, China customs only); no buyer certificate is stored. */
export interface DeclarationsTable {
  declaration_request_id: string;
  intent_id: string;
  payment_id: string;
  currency: string;
  amount_minor: number;
  customs_code: string;
  region: string;
  merchant_customs_code: string;
  merchant_customs_name: string;
  split_order: number;
  sub_order_id: string | null;
  state: string;
  result_code: string | null;
  customs_payment_id: string | null;
  customs_order_id: string | null;
  status_detail: string | null;
  created_at: number;
  updated_at: number;
}

/** The relay database. */
export interface Database {
  devices: DevicesTable;
  enrollment_codes: EnrollmentCodesTable;
  nonces: NoncesTable;
  bindings: BindingsTable;
  auth_states: AuthStatesTable;
  token_revocations: TokenRevocationsTable;
  purchases: PurchasesTable;
  notifications: NotificationsTable;
  notification_dedupe: NotificationDedupeTable;
  refunds: RefundsTable;
  fulfilment_outbox: FulfilmentOutboxTable;
  declarations: DeclarationsTable;
  kiosk_visits: KioskVisitsTable;
}
