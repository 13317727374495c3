import type { IpcMainInvokeEvent } from 'electron';
import { isAppUrl, type OriginPolicy } from './app-origin.ts';
import type { TrustedWindows } from './trusted-windows.ts';

/**
 * IPC rule, sender check: the sender must be the main frame (not a sub-frame) of a window main
 * created, currently showing our own origin. A destroyed or navigated-away frame fails.
 */
export function isTrustedSender(event: IpcMainInvokeEvent, windows: TrustedWindows, policy: OriginPolicy): boolean {
  const frame = event.senderFrame;
  if (!frame) return false;
  if (frame.parent !== null) return false;
  const sender = event.sender;
  if (!sender || !windows.has(sender.id)) return false;
  const main = sender.mainFrame;
  if (!main || main.processId !== frame.processId || main.routingId !== frame.routingId) return false;
  return isAppUrl(frame.url, policy);
}
