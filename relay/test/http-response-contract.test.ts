import { randomUUID } from 'node:crypto';
import { DomainError } from '@scan-to-bind/shared/domain';
import type { RelayBinding } from '@scan-to-bind/shared/relay-api';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONTRACT_VIOLATION, checkAnswer } from '../src/http/response-contract.ts';
import { createServer } from '../src/http/server.ts';
import { capturedLogger } from './support/logs.ts';

/*
 * Every JSON answer goes through its shared/relay-api schema (response-contract.ts): in tests
 * (`strictResponses`) a mismatch is a 500; in production an unnamed field is dropped and a real
 * mismatch is a 500. Routes are registered on the real paths, so the lookup is the relay's.
 */

const binding = (): RelayBinding => ({
  bindingId: randomUUID(),
  state: 'ACTIVE',
  wallet: 'ALIPAY_HK',
  version: 3,
  refreshesLeft: 2,
  maskedAccount: '852-****-8812',
});

function server(strict: boolean, answer: () => unknown) {
  const { logger, logs } = capturedLogger();
  const app = createServer(logger, { strictResponses: strict });
  app.get('/v1/bindings/:id', async () => answer());
  app.get('/v1/catalogue', async () => {
    throw new DomainError('UNKNOWN_CURRENCY');
  });
  return { app, logs };
}

describe.each([true, false])('strictResponses %s', (strict) => {
  it('sends an answer that matches its schema as it is', async () => {
    const b = binding();
    const { app, logs } = server(strict, () => b);
    const res = await app.inject({ method: 'GET', url: `/v1/bindings/${b.bindingId}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(b);
    expect(logs.join('')).not.toContain(CONTRACT_VIOLATION);
    await app.close();
  });

  it('answers 500 INTERNAL, logged with the route and the field, when a field is missing or of the wrong type', async () => {
    const { app, logs } = server(strict, () => ({ ...binding(), state: 'LINKED', refreshesLeft: undefined }));
    const res = await app.inject({ method: 'GET', url: `/v1/bindings/${randomUUID()}` });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ error: { code: 'INTERNAL' } });
    const line = logs.find((l) => l.includes(CONTRACT_VIOLATION));
    expect(line).toBeDefined();
    expect(line).toContain('/v1/bindings/:id');
    expect(line).toContain('state: invalid_value');
    expect(line).toContain('refreshesLeft: invalid_type');
    await app.close();
  });

  it('checks error answers against the error body too', async () => {
    const { app } = server(strict, () => binding());
    const res = await app.inject({ method: 'GET', url: '/v1/catalogue?currency=XXX' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'UNKNOWN_CURRENCY', message: expect.any(String) } });
    await app.close();
  });
});

it('in tests, a field the schema does not name is a 500 (the contract drifted)', async () => {
  const { app, logs } = server(true, () => ({ ...binding(), accountRef: 'tok_secret' }));
  const res = await app.inject({ method: 'GET', url: `/v1/bindings/${randomUUID()}` });
  expect(res.statusCode).toBe(500);
  expect(res.body).not.toContain('tok_secret');
  expect(logs.find((l) => l.includes(CONTRACT_VIOLATION))).toContain('fields the schema does not name');
  expect(logs.join('')).not.toContain('tok_secret');
  await app.close();
});

it('in production, a field the schema does not name is dropped (never sent) and the answer still goes out', async () => {
  const b = binding();
  const { app, logs } = server(false, () => ({ ...b, accountRef: 'tok_secret' }));
  const res = await app.inject({ method: 'GET', url: `/v1/bindings/${b.bindingId}` });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toEqual(b);
  expect(logs.find((l) => l.includes(CONTRACT_VIOLATION))).toContain('"level":40');
  await app.close();
});

describe('checkAnswer: an answer is compared with what its schema keeps, as sent on the wire', () => {
  const Schema = z.object({ id: z.string(), note: z.string().optional(), items: z.array(z.object({ sku: z.string(), n: z.number() })) });

  it('accepts an answer that differs from the parsed one only by undefined fields and key order', () => {
    const check = checkAnswer(Schema, { items: [{ n: 1, sku: 'a' }], note: undefined, id: 'x' });
    expect(check).toEqual({ ok: true, value: { id: 'x', items: [{ sku: 'a', n: 1 }] } });
  });

  it('finds a field the schema does not name however deep, and returns the answer without it', () => {
    const check = checkAnswer(Schema, {
      id: 'x',
      items: [
        { sku: 'a', n: 1 },
        { sku: 'b', n: 2, secret: 's' },
      ],
    });
    expect(check).toEqual({
      ok: false,
      issues: ['(fields the schema does not name)'],
      value: {
        id: 'x',
        items: [
          { sku: 'a', n: 1 },
          { sku: 'b', n: 2 },
        ],
      },
    });
  });

  it('compares values that are not plain data as their JSON (a Date sent as its string)', () => {
    const At = z.object({ at: z.any() });
    const at = new Date(0);
    expect(checkAnswer(At, { at })).toEqual({ ok: true, value: { at } });
    // A transform the schema makes to a field is a difference on the wire.
    expect(checkAnswer(z.object({ n: z.number().transform((v) => v + 1) }), { n: 1 }).ok).toBe(false);
  });
});
