import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../services/ports.ts';
import { redact, redactText } from '../services/redact.ts';

/** Where a log line goes: a writer port, so electron-log can replace this adapter without changing callers. */
export type LogSink = (level: 'debug' | 'info' | 'warn' | 'error', line: string) => void;

/**
 * The logger port with redaction applied before any sink sees a line. This plain adapter
 * writes JSON lines to stderr and, when given, to a file; an electron-log adapter (see
 * docs/embedding.md) implements the same LogSink with `log[level](line)`.
 */
export function createRedactingLogger(sinks: readonly LogSink[], minLevel: 'debug' | 'info' = 'info'): Logger {
  const write = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => {
    if (level === 'debug' && minLevel !== 'debug') return;
    const line = JSON.stringify({ t: new Date().toISOString(), level, msg: redactText(message), ...(redact(fields ?? {}) as object) });
    for (const sink of sinks) {
      try {
        sink(level, line);
      } catch {
        // a broken sink must not break the caller
      }
    }
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

/** A sink to stderr. */
export const stderrSink: LogSink = (_level, line) => {
  process.stderr.write(`${line}\n`);
};

/** A sink appending to a file (created with 0600). */
export function fileSink(file: string): LogSink {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  return (_level, line) => appendFileSync(file, `${line}\n`, { mode: 0o600 });
}
