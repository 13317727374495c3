import { expect, it } from 'vitest';
import { createServer } from '../src/http/server.ts';
import { capturedLogger } from './support/logs.ts';

// Regression (chaos matrix, "client injection strings"): a path with a broken %-escape was
// answered by Fastify's default error body ({"error":"Bad Request","code":"FST_ERR_BAD_URL",
// "message":"'<the URL>' is not a valid url component"}), untyped and echoing the URL.
it('answers a malformed URL with the typed INVALID_INPUT body', async () => {
  const app = createServer(capturedLogger().logger);
  app.get('/v1/purchases/:intentId', async () => ({ ok: true }));
  for (const url of ['/v1/purchases/%E6%BC%A2%E5', '/v1/purchases/%zz', '/v1/purchases/%']) {
    const res = await app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    expect(res.body).not.toContain('%E6');
  }
  await app.close();
});
