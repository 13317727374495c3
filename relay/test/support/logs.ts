import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.ts';

/** A relay logger at info whose lines the test reads back (`logs`, one JSON line each). */
export function capturedLogger(): { logger: ReturnType<typeof createLogger>; logs: string[] } {
  const logs: string[] = [];
  const logger = createLogger(
    'info',
    new Writable({
      write: (c: Buffer, _e, done) => {
        logs.push(c.toString());
        done();
      },
    }),
  );
  return { logger, logs };
}

/** A log destination that appends each line it is written to `lines` (a relay's `logDestination`). */
export function logLines(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
}
