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
