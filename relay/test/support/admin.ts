import type { JsonResponse } from './client.ts';

/** The admin token test stacks are started with. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123456789';

/** Calls the relay's admin API with a bearer token (or none, or extra headers). */
export async function adminCall(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  options: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<JsonResponse & { headers: Headers }> {
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
