import type { Locale } from '@scan-to-bind/shared/domain';

/** Every string of the wallet page. */
export interface WalletCopy {
  title: string;
  merchant: string;
  wallet: string;
  account: string;
  balance: string;
  scope: string;
  /** `{merchant}` and `{wallet}` are filled in. */
  agreement: string;
  authorize: string;
  decline: string;
  authorized: string;
  authorizedHint: string;
  declined: string;
  declinedHint: string;
  gone: string;
  goneHint: string;
  notFound: string;
  badAccount: string;
  expiresIn: string;
  sandboxNote: string;
}

/** The wallet page in English, Traditional Chinese (Hong Kong) and Bahasa Indonesia. */
export const WALLET_COPY: Readonly<Record<Locale, WalletCopy>> = {
  en: {
    title: 'Authorize automatic payments',
    merchant: 'Merchant',
    wallet: 'Wallet',
    account: 'Pay from account',
    balance: 'Balance',
    scope: 'Permission',
    agreement:
      'Allow {merchant} to charge your {wallet} account for purchases you confirm on its screen, without opening {wallet} each time. You can unlink at any time in {wallet}.',
    authorize: 'Authorize',
    decline: 'Decline',
    authorized: 'Authorized',
    authorizedHint: 'You can put your phone away and continue on the screen.',
    declined: 'Declined',
    declinedHint: 'Nothing was shared with the merchant.',
    gone: 'This code can no longer be used',
    goneHint: 'It has expired or was already used. Get a new code on the screen and scan again.',
    notFound: 'This code is not valid.',
    badAccount: 'That account cannot be used with this wallet.',
    expiresIn: 'Valid until',
    sandboxNote: 'Antom sandbox — no real money moves.',
  },
  'zh-HK': {
    title: '授權自動扣款',
    merchant: '商戶',
    wallet: '錢包',
    account: '付款帳戶',
    balance: '餘額',
    scope: '權限',
    agreement: '允許{merchant}在你於其螢幕上確認購買時，從你的{wallet}帳戶扣款，毋須每次開啟{wallet}。你可隨時在{wallet}內取消連結。',
    authorize: '授權',
    decline: '拒絕',
    authorized: '已授權',
    authorizedHint: '你可以放下手機，在螢幕上繼續。',
    declined: '已拒絕',
    declinedHint: '沒有任何資料分享給商戶。',
    gone: '此二維碼已無法使用',
    goneHint: '二維碼已過期或已被使用。請在螢幕上取得新的二維碼再掃描。',
    notFound: '此二維碼無效。',
    badAccount: '此帳戶不能用於這個錢包。',
    expiresIn: '有效至',
    sandboxNote: 'Antom 測試環境——不涉及真實款項。',
  },
  'id-ID': {
    title: 'Otorisasi pembayaran otomatis',
    merchant: 'Merchant',
    wallet: 'Dompet',
    account: 'Bayar dari akun',
    balance: 'Saldo',
    scope: 'Izin',
    agreement:
      'Izinkan {merchant} menagih akun {wallet} Anda untuk pembelian yang Anda konfirmasi di layarnya, tanpa membuka {wallet} setiap kali. Anda dapat memutus tautan kapan saja di {wallet}.',
    authorize: 'Otorisasi',
    decline: 'Tolak',
    authorized: 'Diotorisasi',
    authorizedHint: 'Anda dapat menyimpan ponsel dan melanjutkan di layar.',
    declined: 'Ditolak',
    declinedHint: 'Tidak ada data yang dibagikan ke merchant.',
    gone: 'Kode ini tidak dapat digunakan lagi',
    goneHint: 'Kode sudah kedaluwarsa atau sudah dipakai. Ambil kode baru di layar lalu pindai lagi.',
    notFound: 'Kode ini tidak valid.',
    badAccount: 'Akun tersebut tidak dapat dipakai dengan dompet ini.',
    expiresIn: 'Berlaku hingga',
    sandboxNote: 'Sandbox Antom — tidak ada uang sungguhan yang berpindah.',
  },
};
