/**
 * Test-only crash points of the payment path, used by the chaos matrix (chaos/relay-process.ts)
 * to SIGKILL a relay process at an exact moment. Inert unless the environment variable
 * RELAY_CHAOS_CRASH_AT names this point; never set it in production.
 *
 * - `before-pay`: the purchase is written (SUBMITTED), pay not yet sent;
 * - `after-pay-response`: Antom answered pay, the answer is not yet committed;
 * - `after-commit`: the answer is committed, the device has not had its reply.
 */
export type ChaosCrashPoint = 'before-pay' | 'after-pay-response' | 'after-commit';

export function chaosCrashPoint(point: ChaosCrashPoint): void {
  if (process.env['RELAY_CHAOS_CRASH_AT'] === point) process.kill(process.pid, 'SIGKILL');
}
