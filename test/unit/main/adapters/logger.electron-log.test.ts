import { describe, expect, it } from 'vitest';
import { type ElectronMainLog, electronLogSink } from '../../../../main/adapters/logger.electron-log.ts';
import { createRedactingLogger } from '../../../../main/adapters/logger.plain.ts';

/** The parts of electron-log/main the sink touches, recording what it is given. */
function fakeElectronLog() {
  const lines: Array<[string, string]> = [];
  const transport = () => ({ level: 'info' as unknown, format: '' as unknown });
  const log = {
    transports: {
      file: { ...transport(), maxSize: 0, resolvePathFn: (() => '') as () => string },
      console: transport(),
      ipc: transport(),
      remote: transport(),
    },
    debug: (line: string) => lines.push(['debug', line]),
    info: (line: string) => lines.push(['info', line]),
    warn: (line: string) => lines.push(['warn', line]),
    error: (line: string) => lines.push(['error', line]),
  };
  return { log, lines };
}

describe('electron-log sink', () => {
  it('configures the file transport and keeps IPC and remote transports off', () => {
    const { log } = fakeElectronLog();
    electronLogSink(log as unknown as ElectronMainLog, { file: '/tmp/stb/logs/main.log' });
    expect(log.transports.file.resolvePathFn()).toBe('/tmp/stb/logs/main.log');
    expect(log.transports.file.maxSize).toBe(5 * 1024 * 1024);
    expect(log.transports.file.format).toBe('{text}');
    expect(log.transports.console.level).toBe(false);
    expect(log.transports.ipc.level).toBe(false);
    expect(log.transports.remote.level).toBe(false);
  });

  it('receives only redacted lines, at their level', () => {
    const { log, lines } = fakeElectronLog();
    const logger = createRedactingLogger([electronLogSink(log as unknown as ElectronMainLog, { file: '/tmp/x.log', console: true })], 'debug');
    logger.warn('enrolled with deviceSecret=abcdefghijklmnop', { deviceSecret: 'abcdefghijklmnop', deviceId: 'dev_1' });
    logger.debug('retry', { 'X-Nonce': 'nonce-value' });
    expect(lines.map(([level]) => level)).toEqual(['warn', 'debug']);
    const text = lines.map(([, line]) => line).join('\n');
    expect(text).not.toContain('abcdefghijklmnop');
    expect(text).not.toContain('nonce-value');
    expect(JSON.parse(lines[0]?.[1] ?? '{}')).toMatchObject({ level: 'warn', deviceSecret: '[redacted]', deviceId: 'dev_1' });
    expect(log.transports.console.level).toBe('debug');
  });
});
