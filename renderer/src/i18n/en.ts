/**
 * English, the reference catalogue: its keys are the type every other catalogue must match.
 * Placeholders in braces ({wallet}, {account}, {time}, …) are filled by `t()`; brand names
 * (AlipayHK, DANA) come from the bridge and are never translated. Error texts are not here:
 * they come from shared/domain `errorMessage`.
 */
export const en = {
  language: 'Language',
  loading: 'Loading…',
  noBridge: 'Open this screen from the game or launcher.',
  close: 'Close',
  cancel: 'Cancel',
  tryAgain: 'Try again',

  bindTitle: 'Link a wallet',
  bindPick: 'Choose the wallet to link. You scan a code once, then buy in one click.',
  bindNoWallets: 'No wallet can be linked in your region.',
  bindStarting: 'Getting a code…',
  bindScanTitle: 'Scan with {wallet}',
  bindScanSteps: 'Open the {wallet} app, tap Scan and point your phone at this code.',
  bindConfirmInApp: 'Then confirm in your {wallet} app. This screen updates by itself.',
  bindQrLabel: 'QR code to link {wallet}. If you cannot scan it, copy the link below.',
  bindExpiresIn: 'Code expires in {time}',
  bindRefreshing: 'Getting a fresh code…',
  bindLinkLabel: 'Link for this code',
  bindLinkHelp: 'Cannot scan? Copy the link and open it on the phone that has {wallet}.',
  bindCopyLink: 'Copy link',
  bindCopied: 'Link copied.',
  bindCopyFailed: 'The link could not be copied. Select it and copy it yourself.',
  bindAuthorizedTitle: 'Approved',
  bindAuthorized: 'You approved the link in {wallet}. Finishing…',
  bindLinkedTitle: 'Wallet linked',
  bindLinked: 'Linked: {wallet} {account}',
  bindDone: 'Done',
  bindContinue: 'Continue to purchase',
  bindNewCode: 'Get a new code',
  bindOtherWallet: 'Choose another wallet',
  bindExpiredTitle: 'Code not used',
  bindFailedTitle: 'Linking did not finish',
  bindRevokedTitle: 'Wallet unlinked',
  bindLinkAgain: 'Link again',

  buyTitle: 'Confirm purchase',
  buyLoading: 'Getting the price…',
  buyItem: 'Item',
  buyQuantity: 'Quantity',
  buyUnitPrice: 'Price each',
  buyTotal: 'Total',
  buyPayWith: 'Pay with',
  buyAccount: '{wallet} {account}',
  buyButton: 'Buy',
  buyPaying: 'Paying…',
  buyCheckingTitle: 'Checking your payment…',
  buyCheckingNote: 'Do not pay again. The result appears here by itself, even if you close this window.',
  buyCheckAgain: 'Check again',
  buySucceededTitle: 'Payment complete',
  buySucceeded: 'Paid {amount} with {wallet}. Your item is on its way to your account.',
  buyFailedTitle: 'Payment not completed',
  buyBalanceTitle: 'Balance too low',
  buyLimitTitle: 'Limit reached',
  buyUnlinkedTitle: 'Wallet not linked',
  buyKeychainTitle: 'Keychain not available',
  buyLinkWallet: 'Link again',
  buyNoItem: 'No item was chosen. Open the purchase from the game again.',
  limitSpendingDaily: 'You have reached your spending limit for today.',
  limitSpendingMonthly: 'You have reached your spending limit for this month.',

  pendingTitle: 'Payments being checked',
  pendingRow: '{sku} × {quantity}: {amount}',
  pendingChecking: 'Checking…',
  pendingPaid: 'Paid',
  pendingNotPaid: 'Not paid',

  manageTitle: 'Your wallet',
  manageNone: 'No wallet is linked.',
  manageLink: 'Link a wallet',
  manageUnlink: 'Unlink {wallet}',
  manageUnlinkTitle: 'Unlink {wallet}?',
  manageUnlinkBody: 'To buy again you will need to scan a new code.',
  manageUnlinkConfirm: 'Unlink',
  manageKeep: 'Keep linked',
  manageUnlinked: '{wallet} is unlinked.',

  kioskTitle: 'Buy in one click',
  kioskBody: 'Link {wallets} by scanning a code with your phone, then buy in one click.',
  kioskStart: 'Start',
  kioskPrivacy: 'Nothing of your visit is kept on this screen.',
  kioskStillThereTitle: 'Still there?',
  kioskStillThereBody: 'This session ends in {time} to protect your wallet.',
  kioskStillHere: 'I am still here',
  kioskEnd: 'End session',
  kioskResetting: 'Clearing this session…',
} as const;

/** A message key of the catalogue. */
export type MessageKey = keyof typeof en;

/** A complete catalogue: a missing or extra key is a compile error. */
export type Messages = { readonly [K in MessageKey]: string };
