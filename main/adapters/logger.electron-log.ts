import type ElectronLog from 'electron-log/main';
import type { LogSink } from './logger.plain.ts';

/** The electron-log main logger (the default export of `electron-log/main`). */
export type ElectronMainLog = Pick<typeof ElectronLog, 'debug' | 'info' | 'warn' | 'error' | 'transports'>;

/** Where and how big the log file may grow. */
export interface ElectronLogOptions {
  /** The log file (userData/logs/main.log). */
  readonly file: string;
  /** Rotation size in bytes (electron-log keeps one `.old.log`). */
  readonly maxSize?: number;
  /** Also print to the console (development). */
  readonly console?: boolean;
}

/**
 * A LogSink on electron-log: file rotation and the platform's log folder come from
 * electron-log, the line itself comes already redacted from createRedactingLogger
 * (main/adapters/logger.plain.ts → main/services/redact.ts). electron-log's own formatting is
 * reduced to the text, so the JSON line is written unchanged; its IPC and remote transports
 * stay off (renderers never log through main).
 */
export function electronLogSink(log: ElectronMainLog, o: ElectronLogOptions): LogSink {
  const file = log.transports.file;
  file.resolvePathFn = () => o.file;
  file.maxSize = o.maxSize ?? 5 * 1024 * 1024;
  file.format = '{text}';
  file.level = 'debug';
  log.transports.console.level = o.console ? 'debug' : false;
  log.transports.console.format = '{text}';
  if (log.transports.ipc) log.transports.ipc.level = false;
  if (log.transports.remote) log.transports.remote.level = false;
  return (level, line) => log[level](line);
}
