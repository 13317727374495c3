import type { Api } from '@scan-to-bind/shared/ipc';

declare global {
  interface Window {
    /** The typed bridge that preload exposes; the renderer's only door to main. */
    readonly api: Api;
  }
}

/** The bridge, or null where the page runs without one (a plain browser). */
export function getApi(): Api | null {
  return (globalThis as { api?: Api }).api ?? null;
}
