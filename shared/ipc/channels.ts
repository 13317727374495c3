/**
 * Channel names of the IPC contract, with no schema library attached, so the preload bundle
 * stays a few kilobytes. contract.ts pairs each name with its schemas; a type check there
 * makes the two lists agree.
 */
export const INVOKE_CHANNELS = Object.freeze({
  appInfo: 'app:info',
  listWallets: 'wallet:list',
  startBinding: 'binding:start',
  refreshBindingCode: 'binding:refresh-code',
  cancelBinding: 'binding:cancel',
  bindingStatus: 'binding:status',
  unbind: 'binding:unbind',
  copyBindingLink: 'binding:copy-link',
  quotePurchase: 'purchase:quote',
  confirmPurchase: 'purchase:confirm',
  purchaseStatus: 'purchase:status',
  pendingPurchases: 'purchase:pending',
  getSettings: 'settings:get',
  setSettings: 'settings:set',
  kioskStillHere: 'kiosk:still-here',
  kioskEndSession: 'kiosk:end-session',
} as const);

export const EVENT_CHANNELS = Object.freeze({
  bindingChanged: 'binding:changed',
  purchaseChanged: 'purchase:changed',
  settingsChanged: 'settings:changed',
  kioskChanged: 'kiosk:changed',
} as const);

/** The name of an event's subscribe function: bindingChanged → onBindingChanged. */
export type SubscribeName<K extends string> = `on${Capitalize<K>}`;

/** The subscribe-function name of an event (used by preload and tests). */
export function subscribeName<K extends string>(name: K): SubscribeName<K> {
  return `on${name.charAt(0).toUpperCase()}${name.slice(1)}` as SubscribeName<K>;
}
