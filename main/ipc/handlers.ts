import { WALLETS, walletInfo } from '@scan-to-bind/shared/domain';
import type { Handlers } from '@scan-to-bind/shared/ipc';
import type { BindingService } from '../services/binding-service.ts';
import type { KioskSession } from '../services/kiosk-session.ts';
import type { PurchaseService } from '../services/purchase-service.ts';
import type { RelayApi } from '../services/relay/relay-api.ts';
import type { SettingsService } from '../services/settings-service.ts';

/** The services behind the IPC contract. */
export interface HandlerServices {
  readonly version: string;
  readonly binding: BindingService;
  readonly purchases: PurchaseService;
  readonly settings: SettingsService;
  readonly relay: Pick<RelayApi, 'wallets'>;
  /** Present in kiosk mode only. */
  readonly kiosk: KioskSession | null;
  /** Writes text to the system clipboard (electron's clipboard, in main). */
  readonly writeClipboard: (text: string) => void;
}

/**
 * Maps every invoke of the shared contract to a service call. No rules here: validation is
 * done by the handle() wrapper before these run, and the services own the logic.
 */
export function buildHandlers(s: HandlerServices): Handlers {
  const idleKiosk = { phase: 'attract', secondsLeft: null } as const;
  return {
    appInfo: () => {
      const settings = s.settings.get();
      const wallet = s.binding.status().wallet ?? settings.lastWallet;
      const info = wallet ? walletInfo(wallet) : null;
      return { mode: settings.mode, version: s.version.slice(0, 32), region: info?.country ?? null, currency: info?.currency ?? null };
    },
    listWallets: async () =>
      (await s.relay.wallets()).map((id) => {
        const w = WALLETS[id];
        return { wallet: w.id, displayName: w.displayName, country: w.country, currency: w.currency };
      }),
    startBinding: ({ wallet }) => s.binding.start(wallet),
    refreshBindingCode: () => s.binding.refreshCode(),
    cancelBinding: () => s.binding.cancel(),
    bindingStatus: () => s.binding.status(),
    unbind: () => s.binding.unbind(),
    copyBindingLink: () => {
      const code = s.binding.status().qr?.codeValue;
      if (!code) return false;
      s.writeClipboard(code);
      return true;
    },
    quotePurchase: (input) => s.purchases.quote(input),
    confirmPurchase: (input) => s.purchases.confirm(input),
    purchaseStatus: (input) => s.purchases.status(input),
    pendingPurchases: () => s.purchases.pending(),
    getSettings: () => s.settings.get(),
    setSettings: (patch) => s.settings.setPlayer(patch),
    kioskStillHere: () => s.kiosk?.stillHere() ?? idleKiosk,
    kioskEndSession: async () => (s.kiosk ? s.kiosk.endSession() : idleKiosk),
  };
}
