import type { PowerSaveBlocker } from 'electron';

/**
 * Keeps the display awake only while a flow is visible (kiosk rule: power-save blocker only during
 * a flow): a QR waiting to be scanned or a purchase in progress; never while the attract screen
 * idles.
 */
export function createFlowPowerGuard(blocker: PowerSaveBlocker): (flowVisible: boolean) => void {
  let id: number | null = null;
  return (flowVisible) => {
    if (flowVisible && id === null) id = blocker.start('prevent-display-sleep');
    else if (!flowVisible && id !== null) {
      if (blocker.isStarted(id)) blocker.stop(id);
      id = null;
    }
  };
}
