import type { Locale } from './locale.ts';

/**
 * The one error vocabulary of the product. The relay answers with these codes, the IPC bridge
 * carries them, and the UI shows `errorMessage(code, locale)`. A code never changes meaning;
 * add new ones instead.
 */
export const ERROR_CODES = [
  // input and protocol
  'INVALID_INPUT',
  'INVALID_MONEY',
  'UNKNOWN_CURRENCY',
  'CURRENCY_MISMATCH',
  'ILLEGAL_TRANSITION',
  'UNKNOWN_SKU',
  'INVALID_QUANTITY',
  'IDEMPOTENCY_CONFLICT',
  'NOT_FOUND',
  // device and player identity
  'DEVICE_NOT_ENROLLED',
  'DEVICE_UNAUTHORIZED',
  'REQUEST_EXPIRED',
  'REQUEST_REPLAYED',
  'PLAYER_UNAUTHORIZED',
  // binding
  'WALLET_NOT_AVAILABLE',
  'QR_EXPIRED',
  'QR_REFRESH_LIMIT',
  'BINDING_NOT_FOUND',
  'BINDING_NOT_ACTIVE',
  'BINDING_EXPIRED',
  'BINDING_REVOKED',
  'BINDING_FAILED',
  'KIOSK_VISIT_ENDED',
  // limits
  'BELOW_MIN',
  'ABOVE_PER_TRANSACTION',
  'ABOVE_DAILY',
  'ABOVE_YEARLY',
  'SPENDING_CAP_DAILY',
  'SPENDING_CAP_MONTHLY',
  // payment outcomes
  'INSUFFICIENT_BALANCE',
  'WALLET_LIMIT_REACHED',
  'PAYMENT_DECLINED',
  'PAYMENT_PENDING',
  'PAYMENT_FAILED',
  'PAYMENT_CANCELLED',
  'CANCEL_NOT_ALLOWED',
  'REFUND_WINDOW_EXCEEDED',
  'REFUND_EXCEEDS_PAID',
  // the machine and the network
  'KEYCHAIN_UNAVAILABLE',
  'KEYCHAIN_LOCKED',
  'OFFLINE',
  'RELAY_UNAVAILABLE',
  /** The client refused the relay URL: not https in a packaged build (services/relay-url-policy.ts). */
  'RELAY_URL_INSECURE',
  'TIMEOUT',
  'RATE_LIMITED',
  'OVERLOADED',
  'PROVIDER_ERROR',
  'INTERNAL',
] as const;

/** A code of the shared error vocabulary. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Narrows an untrusted value to an error code. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Values a message may interpolate: `{wallet}` is the wallet brand, `{limit}` formatted money. */
export interface MessageParams {
  wallet?: string;
  limit?: string;
}

type Catalogue = Readonly<Record<ErrorCode, string>>;

const en: Catalogue = {
  INVALID_INPUT: 'Something in this request was not valid. Please try again.',
  INVALID_MONEY: 'That amount is not valid.',
  UNKNOWN_CURRENCY: 'That currency is not supported.',
  CURRENCY_MISMATCH: 'This item is priced in a currency your wallet does not use.',
  ILLEGAL_TRANSITION: 'That step is not possible right now. Please start again.',
  UNKNOWN_SKU: 'This item is not for sale right now.',
  INVALID_QUANTITY: 'Choose a quantity between 1 and 99.',
  IDEMPOTENCY_CONFLICT: 'This purchase was already sent with different details. Please start a new purchase.',
  NOT_FOUND: 'We could not find that. Please start again.',
  DEVICE_NOT_ENROLLED: 'This device is not set up for payments yet. Ask the operator to enrol it.',
  DEVICE_UNAUTHORIZED: 'This device is not allowed to make payments. Ask the operator to enrol it again.',
  REQUEST_EXPIRED: "This device's clock is off. Set the correct time, then try again.",
  REQUEST_REPLAYED: 'This request was already received. Please try again.',
  PLAYER_UNAUTHORIZED: 'Please sign in to the game again, then try again.',
  WALLET_NOT_AVAILABLE: '{wallet} is not available here.',
  QR_EXPIRED: 'This code has expired. Get a new code to continue.',
  QR_REFRESH_LIMIT: 'The code was not scanned. Get a new code when you are ready.',
  BINDING_NOT_FOUND: 'No wallet is linked. Link a wallet to continue.',
  BINDING_NOT_ACTIVE: 'Your wallet is still being linked. Please wait a moment.',
  BINDING_EXPIRED: 'Your {wallet} link has expired. Scan a new code to link it again.',
  BINDING_REVOKED: 'Your {wallet} is no longer linked. Link it again to continue.',
  BINDING_FAILED: 'Linking {wallet} did not work. Get a new code and try again.',
  KIOSK_VISIT_ENDED: 'Your {wallet} is no longer linked. Link it again to continue.',
  BELOW_MIN: 'This amount is below the {wallet} minimum of {limit}.',
  ABOVE_PER_TRANSACTION: 'This amount is above the {wallet} limit of {limit} per payment.',
  ABOVE_DAILY: 'This would pass the {wallet} limit of {limit} per day. Try again tomorrow.',
  ABOVE_YEARLY: 'This would pass the {wallet} limit of {limit} per year.',
  SPENDING_CAP_DAILY: 'You have reached your spending limit of {limit} for today.',
  SPENDING_CAP_MONTHLY: 'You have reached your spending limit of {limit} for this month.',
  INSUFFICIENT_BALANCE: 'Your {wallet} balance is too low. Top up in the {wallet} app, then try again.',
  WALLET_LIMIT_REACHED: 'Your {wallet} account has reached its payment limit. Check your limits in the {wallet} app.',
  PAYMENT_DECLINED: '{wallet} declined this payment. Open the {wallet} app for details.',
  PAYMENT_PENDING: 'Checking your payment… You will not be charged twice.',
  PAYMENT_FAILED: 'The payment did not go through. You were not charged.',
  PAYMENT_CANCELLED: 'The payment was cancelled. You were not charged.',
  CANCEL_NOT_ALLOWED: 'This payment can no longer be cancelled.',
  REFUND_WINDOW_EXCEEDED: 'This payment is too old to refund.',
  REFUND_EXCEEDS_PAID: 'The refund is more than what was paid.',
  KEYCHAIN_UNAVAILABLE: "This computer's keychain is not available, so your wallet link cannot be used. Unlock or set up the keychain, then try again.",
  KEYCHAIN_LOCKED: "This computer's keychain is locked. Unlock it, then try again.",
  OFFLINE: 'You are offline. Check your connection, then try again.',
  RELAY_UNAVAILABLE: 'The payment service is not reachable right now. Please try again shortly.',
  RELAY_URL_INSECURE: 'This device is not set up for a secure payment service. Ask the operator to fix it.',
  TIMEOUT: 'This is taking too long. Please try again.',
  RATE_LIMITED: 'Too many attempts. Wait a moment, then try again.',
  OVERLOADED: 'The payment service is busy. Please try again in a moment.',
  PROVIDER_ERROR: '{wallet} could not be reached. Please try again shortly.',
  INTERNAL: 'Something went wrong on our side. Please try again.',
};

const zhHK: Catalogue = {
  INVALID_INPUT: '此要求有無效的內容，請再試一次。',
  INVALID_MONEY: '金額無效。',
  UNKNOWN_CURRENCY: '不支援此貨幣。',
  CURRENCY_MISMATCH: '此物品的標價貨幣與你的錢包不符。',
  ILLEGAL_TRANSITION: '現在無法進行此步驟，請重新開始。',
  UNKNOWN_SKU: '此物品暫時停售。',
  INVALID_QUANTITY: '請選擇 1 至 99 之間的數量。',
  IDEMPOTENCY_CONFLICT: '此購買已以不同資料送出，請重新購買。',
  NOT_FOUND: '找不到相關資料，請重新開始。',
  DEVICE_NOT_ENROLLED: '此裝置尚未設定付款，請聯絡管理員登記。',
  DEVICE_UNAUTHORIZED: '此裝置無權付款，請聯絡管理員重新登記。',
  REQUEST_EXPIRED: '此裝置的時間不正確，請校正時間後再試。',
  REQUEST_REPLAYED: '此要求已收到，請再試一次。',
  PLAYER_UNAUTHORIZED: '請重新登入遊戲後再試。',
  WALLET_NOT_AVAILABLE: '此處無法使用{wallet}。',
  QR_EXPIRED: '此二維碼已過期，請取得新的二維碼。',
  QR_REFRESH_LIMIT: '二維碼未被掃描。準備好後請取得新的二維碼。',
  BINDING_NOT_FOUND: '尚未連結錢包，請先連結錢包。',
  BINDING_NOT_ACTIVE: '錢包仍在連結中，請稍候。',
  BINDING_EXPIRED: '你的{wallet}連結已過期，請掃描新的二維碼重新連結。',
  BINDING_REVOKED: '你的{wallet}已取消連結，請重新連結後繼續。',
  BINDING_FAILED: '連結{wallet}不成功，請取得新的二維碼再試。',
  KIOSK_VISIT_ENDED: '你的{wallet}已取消連結，請重新連結後繼續。',
  BELOW_MIN: '此金額低於{wallet}的最低金額 {limit}。',
  ABOVE_PER_TRANSACTION: '此金額超過{wallet}每筆 {limit} 的上限。',
  ABOVE_DAILY: '此付款會超過{wallet}每日 {limit} 的上限，請明天再試。',
  ABOVE_YEARLY: '此付款會超過{wallet}每年 {limit} 的上限。',
  SPENDING_CAP_DAILY: '你已達到今日 {limit} 的消費上限。',
  SPENDING_CAP_MONTHLY: '你已達到本月 {limit} 的消費上限。',
  INSUFFICIENT_BALANCE: '你的{wallet}餘額不足，請在{wallet}應用程式增值後再試。',
  WALLET_LIMIT_REACHED: '你的{wallet}帳戶已達付款上限，請在{wallet}應用程式查看限額。',
  PAYMENT_DECLINED: '{wallet}拒絕了此付款，詳情請查看{wallet}應用程式。',
  PAYMENT_PENDING: '正在確認你的付款…你不會被重複扣款。',
  PAYMENT_FAILED: '付款未能完成，你沒有被扣款。',
  PAYMENT_CANCELLED: '付款已取消，你沒有被扣款。',
  CANCEL_NOT_ALLOWED: '此付款已無法取消。',
  REFUND_WINDOW_EXCEEDED: '此付款已超過退款期限。',
  REFUND_EXCEEDS_PAID: '退款金額超過已付金額。',
  KEYCHAIN_UNAVAILABLE: '無法使用此電腦的鑰匙圈，因此無法使用你的錢包連結。請解鎖或設定鑰匙圈後再試。',
  KEYCHAIN_LOCKED: '此電腦的鑰匙圈已上鎖，請解鎖後再試。',
  OFFLINE: '你已離線，請檢查網絡連線後再試。',
  RELAY_UNAVAILABLE: '暫時無法連接付款服務，請稍後再試。',
  RELAY_URL_INSECURE: '此裝置尚未設定安全的付款服務，請聯絡管理員更正。',
  TIMEOUT: '處理時間過長，請再試一次。',
  RATE_LIMITED: '嘗試次數過多，請稍候再試。',
  OVERLOADED: '付款服務繁忙，請稍後再試。',
  PROVIDER_ERROR: '暫時無法連接{wallet}，請稍後再試。',
  INTERNAL: '我們這邊出現問題，請再試一次。',
};

const id: Catalogue = {
  INVALID_INPUT: 'Ada data yang tidak valid dalam permintaan ini. Silakan coba lagi.',
  INVALID_MONEY: 'Jumlah tersebut tidak valid.',
  UNKNOWN_CURRENCY: 'Mata uang tersebut tidak didukung.',
  CURRENCY_MISMATCH: 'Harga item ini memakai mata uang yang tidak digunakan dompet Anda.',
  ILLEGAL_TRANSITION: 'Langkah itu tidak bisa dilakukan sekarang. Silakan mulai lagi.',
  UNKNOWN_SKU: 'Item ini sedang tidak dijual.',
  INVALID_QUANTITY: 'Pilih jumlah antara 1 dan 99.',
  IDEMPOTENCY_CONFLICT: 'Pembelian ini sudah dikirim dengan data berbeda. Silakan mulai pembelian baru.',
  NOT_FOUND: 'Data tidak ditemukan. Silakan mulai lagi.',
  DEVICE_NOT_ENROLLED: 'Perangkat ini belum diatur untuk pembayaran. Minta operator untuk mendaftarkannya.',
  DEVICE_UNAUTHORIZED: 'Perangkat ini tidak diizinkan melakukan pembayaran. Minta operator untuk mendaftarkannya lagi.',
  REQUEST_EXPIRED: 'Jam perangkat ini tidak tepat. Atur waktu yang benar, lalu coba lagi.',
  REQUEST_REPLAYED: 'Permintaan ini sudah diterima. Silakan coba lagi.',
  PLAYER_UNAUTHORIZED: 'Silakan masuk ke game lagi, lalu coba lagi.',
  WALLET_NOT_AVAILABLE: '{wallet} tidak tersedia di sini.',
  QR_EXPIRED: 'Kode ini sudah kedaluwarsa. Ambil kode baru untuk melanjutkan.',
  QR_REFRESH_LIMIT: 'Kode belum dipindai. Ambil kode baru saat Anda siap.',
  BINDING_NOT_FOUND: 'Belum ada dompet yang terhubung. Hubungkan dompet untuk melanjutkan.',
  BINDING_NOT_ACTIVE: 'Dompet Anda masih dihubungkan. Mohon tunggu sebentar.',
  BINDING_EXPIRED: 'Tautan {wallet} Anda sudah kedaluwarsa. Pindai kode baru untuk menghubungkannya lagi.',
  BINDING_REVOKED: '{wallet} Anda tidak lagi terhubung. Hubungkan lagi untuk melanjutkan.',
  BINDING_FAILED: 'Gagal menghubungkan {wallet}. Ambil kode baru dan coba lagi.',
  KIOSK_VISIT_ENDED: '{wallet} Anda tidak lagi terhubung. Hubungkan lagi untuk melanjutkan.',
  BELOW_MIN: 'Jumlah ini di bawah minimum {wallet} sebesar {limit}.',
  ABOVE_PER_TRANSACTION: 'Jumlah ini melebihi batas {wallet} sebesar {limit} per pembayaran.',
  ABOVE_DAILY: 'Pembayaran ini akan melebihi batas {wallet} sebesar {limit} per hari. Coba lagi besok.',
  ABOVE_YEARLY: 'Pembayaran ini akan melebihi batas {wallet} sebesar {limit} per tahun.',
  SPENDING_CAP_DAILY: 'Anda sudah mencapai batas belanja {limit} untuk hari ini.',
  SPENDING_CAP_MONTHLY: 'Anda sudah mencapai batas belanja {limit} untuk bulan ini.',
  INSUFFICIENT_BALANCE: 'Saldo {wallet} Anda tidak cukup. Isi saldo di aplikasi {wallet}, lalu coba lagi.',
  WALLET_LIMIT_REACHED: 'Akun {wallet} Anda sudah mencapai batas pembayaran. Periksa batas Anda di aplikasi {wallet}.',
  PAYMENT_DECLINED: '{wallet} menolak pembayaran ini. Buka aplikasi {wallet} untuk detailnya.',
  PAYMENT_PENDING: 'Memeriksa pembayaran Anda… Anda tidak akan ditagih dua kali.',
  PAYMENT_FAILED: 'Pembayaran tidak berhasil. Anda tidak ditagih.',
  PAYMENT_CANCELLED: 'Pembayaran dibatalkan. Anda tidak ditagih.',
  CANCEL_NOT_ALLOWED: 'Pembayaran ini tidak dapat dibatalkan lagi.',
  REFUND_WINDOW_EXCEEDED: 'Pembayaran ini sudah terlalu lama untuk dikembalikan dananya.',
  REFUND_EXCEEDS_PAID: 'Jumlah pengembalian melebihi jumlah yang dibayar.',
  KEYCHAIN_UNAVAILABLE: 'Keychain komputer ini tidak tersedia, jadi tautan dompet Anda tidak dapat digunakan. Buka kunci atau atur keychain, lalu coba lagi.',
  KEYCHAIN_LOCKED: 'Keychain komputer ini terkunci. Buka kuncinya, lalu coba lagi.',
  OFFLINE: 'Anda sedang offline. Periksa koneksi Anda, lalu coba lagi.',
  RELAY_UNAVAILABLE: 'Layanan pembayaran sedang tidak dapat dihubungi. Silakan coba lagi sebentar lagi.',
  RELAY_URL_INSECURE: 'Perangkat ini belum diatur untuk layanan pembayaran yang aman. Minta operator untuk memperbaikinya.',
  TIMEOUT: 'Prosesnya terlalu lama. Silakan coba lagi.',
  RATE_LIMITED: 'Terlalu banyak percobaan. Tunggu sebentar, lalu coba lagi.',
  OVERLOADED: 'Layanan pembayaran sedang sibuk. Silakan coba lagi sebentar lagi.',
  PROVIDER_ERROR: '{wallet} tidak dapat dihubungi. Silakan coba lagi sebentar lagi.',
  INTERNAL: 'Terjadi kesalahan di pihak kami. Silakan coba lagi.',
};

/** The error messages per locale; every code has a message in every locale. */
export const ERROR_MESSAGES: Readonly<Record<Locale, Catalogue>> = Object.freeze({
  en,
  'zh-HK': zhHK,
  'id-ID': id,
});

/**
 * The user-facing message of a code in a locale, with `{wallet}` and `{limit}` filled in.
 * A placeholder whose value is missing is replaced by a neutral word, never left as braces.
 */
export function errorMessage(code: ErrorCode, locale: Locale, params: MessageParams = {}): string {
  const fallbackWallet = { en: 'wallet', 'zh-HK': '錢包', 'id-ID': 'dompet' }[locale];
  const template = ERROR_MESSAGES[locale][code];
  return template
    .replaceAll('{wallet}', params.wallet ?? fallbackWallet)
    .replaceAll('{limit}', params.limit ?? '')
    .replace(/\s+([。.,，])/gu, '$1');
}

/** A failure in domain rules, carrying a code of the shared vocabulary. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, detail?: string) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'DomainError';
    this.code = code;
  }
}
