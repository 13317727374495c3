import type { IpcMainInvokeEvent } from 'electron';
import { type ErrorCode, isErrorCode } from '@scan-to-bind/shared/domain';
import { type Handlers, type InvokeName, type IpcResult, invokes, parseInvokeInput, parseInvokeOutput } from '@scan-to-bind/shared/ipc';

/** The part of ipcMain the wrapper uses. */
export interface IpcMainPort {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/** What the wrapper needs. */
export interface HandleDeps {
  readonly ipcMain: IpcMainPort;
  readonly isTrustedSender: (event: IpcMainInvokeEvent) => boolean;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
  /** Called after a trusted, valid call with its name (the kiosk idle timer counts customer calls as activity). */
  readonly onActivity?: (name: InvokeName) => void;
}

/** Thrown to a sender that is not ours: it gets no typed answer at all. */
export class ForbiddenSenderError extends Error {
  constructor() {
    super('IPC sender refused');
    this.name = 'ForbiddenSenderError';
  }
}

/** The error code carried by anything a service throws (DomainError, VaultError, RelayError…). */
export function errorCodeOf(error: unknown): ErrorCode {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (isErrorCode(code)) return code;
  }
  return 'INTERNAL';
}

/** The function that registers one handler. */
export type Handle = <K extends InvokeName>(name: K, impl: Handlers[K]) => void;

/**
 * Builds `handle(name, impl)`, the only way a handler is registered (IPC rule: every handler is
 * sender-checked and schema-validated). Per call: (1) refuse a sender that is not the main frame
 * of our own window, (2) `safeParse` the input with the contract's schema — invalid input never
 * reaches a service, (3) call the service, (4) check main's own answer against the output schema
 * and return `{ok:true,value}` or `{ok:false,code}`. Nothing thrown by a service crosses the
 * bridge.
 */
export function createHandle(deps: HandleDeps): Handle {
  return (name, impl) => {
    const { channel } = invokes[name];
    deps.ipcMain.handle(channel, async (event, ...args): Promise<IpcResult<unknown>> => {
      if (!deps.isTrustedSender(event)) {
        deps.log('ipc sender refused', { channel });
        throw new ForbiddenSenderError();
      }
      if (args.length > 1) return { ok: false, code: 'INVALID_INPUT' };
      const input = parseInvokeInput(name, args[0]);
      if (!input.ok) {
        deps.log('ipc input refused', { channel });
        return { ok: false, code: 'INVALID_INPUT' };
      }
      deps.onActivity?.(name);
      let value: unknown;
      try {
        value = await impl(input.value);
      } catch (error) {
        const code = errorCodeOf(error);
        if (code === 'INTERNAL') deps.log('ipc handler failed', { channel, error: String(error) });
        return { ok: false, code };
      }
      const output = parseInvokeOutput(name, value);
      if (output === undefined) {
        deps.log('ipc output does not match the contract', { channel });
        return { ok: false, code: 'INTERNAL' };
      }
      return { ok: true, value: output };
    });
  };
}

/** Registers every handler of the contract; a missing one is a type error, not a runtime gap. */
export function registerHandlers(handle: Handle, handlers: Handlers): void {
  for (const name of Object.keys(invokes) as InvokeName[]) {
    handle(name, handlers[name] as never);
  }
}
