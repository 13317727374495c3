import type { BrowserWindow } from 'electron';

/** How often the renderer may be reloaded before the app relaunches instead. */
export interface WatchdogPolicy {
  readonly maxReloads: number;
  readonly windowMs: number;
  /** How long an unresponsive renderer gets before it is reloaded. */
  readonly unresponsiveGraceMs: number;
}

/** Decides reload vs relaunch from the recent reload times (pure). */
export function nextRecovery(history: readonly number[], now: number, policy: WatchdogPolicy): 'reload' | 'relaunch' {
  const recent = history.filter((t) => now - t < policy.windowMs);
  return recent.length >= policy.maxReloads ? 'relaunch' : 'reload';
}

/** What the watchdog may do besides touching the window. */
export interface WatchdogDeps {
  readonly relaunch: (reason: string) => void;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
  readonly now?: () => number;
}

/**
 * Kiosk watchdog (kiosk rule: reload a gone renderer, relaunch logged): a crashed or killed
 * renderer is reloaded; a renderer that stays unresponsive past the grace time is reloaded; too
 * many reloads in a short time relaunch the whole app (logged).
 */
export function installRendererWatchdog(
  win: BrowserWindow,
  deps: WatchdogDeps,
  policy: WatchdogPolicy = { maxReloads: 3, windowMs: 60_000, unresponsiveGraceMs: 10_000 },
): void {
  const history: number[] = [];
  const now = deps.now ?? Date.now;
  let hang: ReturnType<typeof setTimeout> | null = null;
  const recover = (reason: string) => {
    if (win.isDestroyed()) return;
    const action = nextRecovery(history, now(), policy);
    deps.log('renderer recovery', { reason, action });
    if (action === 'relaunch') {
      deps.relaunch(reason);
      return;
    }
    history.push(now());
    win.webContents.reload();
  };
  win.webContents.on('render-process-gone', (_e, details) => {
    if (details.reason !== 'clean-exit') recover(`render-process-gone:${details.reason}`);
  });
  win.on('unresponsive', () => {
    if (hang) return;
    hang = setTimeout(() => {
      hang = null;
      if (!win.isDestroyed()) {
        win.webContents.forcefullyCrashRenderer();
        recover('unresponsive');
      }
    }, policy.unresponsiveGraceMs);
  });
  win.on('responsive', () => {
    if (hang) clearTimeout(hang);
    hang = null;
  });
}
