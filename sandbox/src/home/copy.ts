import type { Locale } from '@scan-to-bind/shared/domain';

/** Every string of the sandbox's home page. */
export interface HomeCopy {
  title: string;
  /** What the sandbox is, one paragraph. */
  intro: string;
  accounts: string;
  wallet: string;
  loginId: string;
  name: string;
  balance: string;
  tier: string;
  openCodes: string;
  noOpenCodes: string;
  /** `{time}` is filled in. */
  validUntil: string;
  openOnPhone: string;
  scanHint: string;
  payments: string;
  noPayments: string;
  time: string;
  amount: string;
  status: string;
  result: string;
  notifications: string;
  noNotifications: string;
  kind: string;
  attempts: string;
  admin: string;
  adminIntro: string;
  refresh: string;
  /** `{url}` is filled in. */
  phoneBase: string;
  lanHint: string;
}

/** The home page in English, Traditional Chinese (Hong Kong) and Bahasa Indonesia. */
export const HOME_COPY: Readonly<Record<Locale, HomeCopy>> = {
  en: {
    title: 'Antom sandbox',
    intro:
      'A local stand-in for Antom (Scan to Bind and auto debit) and for the AlipayHK and DANA apps on the phone. It checks every request signature as Antom does and moves no real money. The relay talks to it; the codes below are what the PC shows as QR codes.',
    accounts: 'Wallet accounts',
    wallet: 'Wallet',
    loginId: 'Login id',
    name: 'Name',
    balance: 'Balance',
    tier: 'Tier',
    openCodes: 'Codes open now',
    noOpenCodes: 'No code is open. Start linking on the PC and its code appears here.',
    validUntil: 'valid until {time}',
    openOnPhone: 'Open the phone page',
    scanHint: 'Scan with a phone camera on the same network, or open the link in a phone-sized window.',
    payments: 'Recent payments',
    noPayments: 'No payment yet.',
    time: 'Time',
    amount: 'Amount',
    status: 'Status',
    result: 'Result',
    notifications: 'Recent notifications',
    noNotifications: 'No notification yet.',
    kind: 'Kind',
    attempts: 'Attempts',
    admin: 'Admin controls',
    adminIntro: 'Faults, the clock, balances and wallet-side events are set through the admin API (loopback only, with the admin token printed at start):',
    refresh: 'Refresh',
    phoneBase: 'Phone pages are served at {url}.',
    lanHint: 'To scan from a real phone, start with --lan (npm start) or --host 0.0.0.0 (sandbox alone).',
  },
  'zh-HK': {
    title: 'Antom 測試環境',
    intro:
      '本機模擬 Antom（掃碼綁定及自動扣款）以及手機上的 AlipayHK 和 DANA 應用程式。它會像 Antom 一樣檢查每個請求的簽名，不涉及真實款項。中繼伺服器與它通訊；下面的代碼就是電腦上顯示的二維碼。',
    accounts: '錢包帳戶',
    wallet: '錢包',
    loginId: '登入帳號',
    name: '姓名',
    balance: '餘額',
    tier: '級別',
    openCodes: '目前有效的代碼',
    noOpenCodes: '目前沒有有效代碼。在電腦上開始連結，代碼就會在這裏出現。',
    validUntil: '有效至 {time}',
    openOnPhone: '開啟手機頁面',
    scanHint: '用同一網絡上的手機相機掃描，或在手機大小的視窗中開啟連結。',
    payments: '最近的付款',
    noPayments: '尚未有付款。',
    time: '時間',
    amount: '金額',
    status: '狀態',
    result: '結果',
    notifications: '最近的通知',
    noNotifications: '尚未有通知。',
    kind: '類型',
    attempts: '嘗試次數',
    admin: '管理控制',
    adminIntro: '故障、時鐘、餘額和錢包端事件可透過管理 API 設定（只限本機，需使用啟動時顯示的管理權杖）：',
    refresh: '重新整理',
    phoneBase: '手機頁面位於 {url}。',
    lanHint: '如要用真手機掃描，請以 --lan（npm start）或 --host 0.0.0.0（單獨執行測試環境）啟動。',
  },
  'id-ID': {
    title: 'Sandbox Antom',
    intro:
      'Pengganti lokal untuk Antom (Scan to Bind dan auto debit) serta aplikasi AlipayHK dan DANA di ponsel. Sandbox memeriksa setiap tanda tangan permintaan seperti Antom dan tidak memindahkan uang sungguhan. Relay berbicara dengannya; kode di bawah adalah yang ditampilkan PC sebagai kode QR.',
    accounts: 'Akun dompet',
    wallet: 'Dompet',
    loginId: 'ID login',
    name: 'Nama',
    balance: 'Saldo',
    tier: 'Tingkat',
    openCodes: 'Kode yang terbuka saat ini',
    noOpenCodes: 'Tidak ada kode yang terbuka. Mulai menautkan di PC dan kodenya muncul di sini.',
    validUntil: 'berlaku hingga {time}',
    openOnPhone: 'Buka halaman ponsel',
    scanHint: 'Pindai dengan kamera ponsel di jaringan yang sama, atau buka tautan di jendela seukuran ponsel.',
    payments: 'Pembayaran terbaru',
    noPayments: 'Belum ada pembayaran.',
    time: 'Waktu',
    amount: 'Jumlah',
    status: 'Status',
    result: 'Hasil',
    notifications: 'Notifikasi terbaru',
    noNotifications: 'Belum ada notifikasi.',
    kind: 'Jenis',
    attempts: 'Percobaan',
    admin: 'Kontrol admin',
    adminIntro: 'Gangguan, jam, saldo, dan kejadian di sisi dompet diatur melalui API admin (hanya loopback, dengan token admin yang dicetak saat mulai):',
    refresh: 'Muat ulang',
    phoneBase: 'Halaman ponsel disajikan di {url}.',
    lanHint: 'Untuk memindai dari ponsel sungguhan, mulai dengan --lan (npm start) atau --host 0.0.0.0 (sandbox saja).',
  },
};
