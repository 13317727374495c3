import type { FastifyInstance } from 'fastify';

/** Antom's request size limit as the sandbox applies it: 1 MiB. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** Past this the connection is cut instead of drained (nobody sends 32 MiB by mistake). */
const DRAIN_LIMIT_BYTES = 32 * 1024 * 1024;

/** The body as received: exact bytes (the signature covers them) or a too-large marker. */
export interface RawBody {
  raw: Buffer;
  tooLarge: boolean;
}

/**
 * Replaces Fastify's parsers with one that keeps the exact bytes of every body. A body over
 * the limit is drained and discarded rather than refused with 413, so the API can still answer
 * Antom-style (HTTP 200, F, PARAM_ILLEGAL) and the client reads the answer.
 */
export function installRawBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = (err: Error | null, body?: RawBody) => {
      if (finished) return;
      finished = true;
      done(err, body);
    };
    payload.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_LIMIT_BYTES) chunks.push(chunk);
      else if (size > DRAIN_LIMIT_BYTES) payload.destroy();
    });
    payload.on('end', () => finish(null, { raw: size <= BODY_LIMIT_BYTES ? Buffer.concat(chunks) : Buffer.alloc(0), tooLarge: size > BODY_LIMIT_BYTES }));
    payload.on('error', (err) => finish(err));
    payload.on('close', () => finish(null, { raw: Buffer.alloc(0), tooLarge: size > BODY_LIMIT_BYTES }));
  });
}

/** The raw body of a request, empty when there was none. */
export function rawBodyOf(body: unknown): RawBody {
  if (typeof body === 'object' && body !== null && 'raw' in body && Buffer.isBuffer((body as RawBody).raw)) return body as RawBody;
  return { raw: Buffer.alloc(0), tooLarge: false };
}
