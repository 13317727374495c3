import type { BrowserWindow, BrowserWindowConstructorOptions, IpcMainInvokeEvent, WebContents } from 'electron';

type Listener = (...args: unknown[]) => unknown;

/** A navigation-like event whose preventDefault is observable. */
export interface FakeEvent {
  url: string;
  defaultPrevented: boolean;
  preventDefault(): void;
}

/** Builds an event for will-navigate and friends. */
export function fakeNavEvent(url: string): FakeEvent {
  return {
    url,
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}

let nextId = 1;

/** A web contents that records listeners and the window-open handler. */
export class FakeWebContents {
  readonly id = nextId++;
  readonly listeners = new Map<string, Listener[]>();
  windowOpenHandler: ((d: { url: string }) => { action: string }) | null = null;
  readonly sent: Array<{ channel: string; payload: unknown }> = [];
  destroyed = false;
  url = 'app://app/index.html';
  mainFrame = { processId: 1, routingId: 1, parent: null, url: 'app://app/index.html' };

  on(event: string, listener: Listener): this {
    const list = this.listeners.get(event) ?? [];
    list.push(listener);
    this.listeners.set(event, list);
    return this;
  }
  once(event: string, listener: Listener): this {
    return this.on(event, listener);
  }
  emit(event: string, ...args: unknown[]): void {
    for (const l of this.listeners.get(event) ?? []) l(...args);
  }
  setWindowOpenHandler(handler: (d: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }
  getURL(): string {
    return this.url;
  }
  reload(): void {
    this.emit('fake-reload');
  }
  asElectron(): WebContents {
    return this as unknown as WebContents;
  }
}

/** A BrowserWindow that records the options it was built with and what was done to it. */
export class FakeBrowserWindow {
  static created: FakeBrowserWindow[] = [];
  readonly options: BrowserWindowConstructorOptions;
  readonly webContents = new FakeWebContents();
  readonly calls: Array<[string, ...unknown[]]> = [];
  readonly listeners = new Map<string, Listener[]>();
  loadedUrl: string | null = null;
  visible = false;
  destroyed = false;

  constructor(options: BrowserWindowConstructorOptions) {
    this.options = options;
    FakeBrowserWindow.created.push(this);
  }
  on(event: string, listener: Listener): this {
    const list = this.listeners.get(event) ?? [];
    list.push(listener);
    this.listeners.set(event, list);
    return this;
  }
  once(event: string, listener: Listener): this {
    return this.on(event, listener);
  }
  emit(event: string, ...args: unknown[]): void {
    for (const l of this.listeners.get(event) ?? []) l(...args);
  }
  async loadURL(url: string): Promise<void> {
    this.loadedUrl = url;
  }
  setContentProtection(v: boolean): void {
    this.calls.push(['setContentProtection', v]);
  }
  setIgnoreMouseEvents(ignore: boolean, options?: unknown): void {
    this.calls.push(['setIgnoreMouseEvents', ignore, options]);
  }
  setAlwaysOnTop(flag: boolean, level?: string): void {
    this.calls.push(['setAlwaysOnTop', flag, level]);
  }
  setVisibleOnAllWorkspaces(flag: boolean, options?: unknown): void {
    this.calls.push(['setVisibleOnAllWorkspaces', flag, options]);
  }
  setFocusable(flag: boolean): void {
    this.calls.push(['setFocusable', flag]);
  }
  showInactive(): void {
    this.visible = true;
    this.calls.push(['showInactive']);
  }
  show(): void {
    this.visible = true;
    this.calls.push(['show']);
  }
  focus(): void {
    this.calls.push(['focus']);
  }
  hide(): void {
    this.visible = false;
    this.calls.push(['hide']);
  }
  isVisible(): boolean {
    return this.visible;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  close(): void {
    this.destroyed = true;
    this.emit('closed');
  }
  asElectron(): BrowserWindow {
    return this as unknown as BrowserWindow;
  }
}

/** An IPC invoke event from a given frame of a given web contents. */
export function fakeInvokeEvent(opts: { contents: FakeWebContents; frameUrl?: string; subFrame?: boolean; frameGone?: boolean }): IpcMainInvokeEvent {
  const main = opts.contents.mainFrame;
  const frame = opts.frameGone
    ? null
    : opts.subFrame
      ? { processId: main.processId, routingId: 99, parent: main, url: opts.frameUrl ?? 'app://app/index.html' }
      : { ...main, url: opts.frameUrl ?? main.url };
  return { sender: opts.contents, senderFrame: frame } as unknown as IpcMainInvokeEvent;
}
