import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, sendError } from '../src/http/errors.ts';

// A database restart under load (chaos matrix, "PostgreSQL restarted under load") made the
// requests in flight answer 500 INTERNAL; they are retryable: 503 OVERLOADED with Retry-After.
describe('sendError for a database that is unavailable for a moment', () => {
  const errors: Array<[string, unknown]> = [
    ['admin shutdown', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['cannot connect now', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    ['connection exception', Object.assign(new Error('connection failure'), { code: '08006' })],
    ['refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['terminated', new Error('Connection terminated unexpectedly')],
    ['closed client', new Error('Client was closed and is not queryable')],
  ];
  for (const [name, err] of errors) {
    it(`${name} → 503 OVERLOADED + Retry-After`, async () => {
      const app = Fastify();
      app.get('/x', async () => {
        throw err;
      });
      app.setErrorHandler((e, _req, reply) => sendError(reply, e));
      const res = await app.inject({ method: 'GET', url: '/x' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({ error: { code: 'OVERLOADED' } });
      await app.close();
    });
  }

  it('other errors stay 500 INTERNAL (a unique violation, a bug)', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
  });
});
