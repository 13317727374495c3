/**
 * The web contents ids of the windows main created through createSecureWindow(). Only these
 * may call IPC handlers or receive pushes.
 */
export class TrustedWindows {
  readonly #ids = new Set<number>();

  /** Records a window created by the secure factory. */
  add(webContentsId: number): void {
    this.#ids.add(webContentsId);
  }

  /** Forgets a closed window. */
  remove(webContentsId: number): void {
    this.#ids.delete(webContentsId);
  }

  /** True when main created this web contents. */
  has(webContentsId: number): boolean {
    return this.#ids.has(webContentsId);
  }

  /** The ids of all live trusted windows. */
  ids(): number[] {
    return [...this.#ids];
  }
}
