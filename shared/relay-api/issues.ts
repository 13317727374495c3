import type { z } from 'zod';

/**
 * What a value got wrong against a contract schema, as `path: code` lines: the relay logs them
 * for an answer it refuses to send, the client for an answer it refuses to read. Never the
 * values, which may be secrets (an enrolment answer carries the device secret).
 */
export function contractIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`);
}
