import { z } from 'zod';

/**
 * What `npm start` (scripts/start.ts) hands to main: a JSON file, mode 0600, whose path is in
 * the SCAN_TO_BIND_HANDOVER environment variable. Main reads it once, stores the device
 * credential in the vault (or enrols with the one-time code), then deletes the file.
 */
export const HandoverSchema = z.strictObject({
  relayUrl: z.url({ protocol: /^https?$/ }),
  /** A one-time enrolment code (`npm run relay -- enroll`); main enrols with it. */
  enrollCode: z.string().min(4).max(256).optional(),
  /** Or a credential the start script already obtained. */
  device: z
    .strictObject({
      deviceId: z.string().min(1).max(128),
      deviceSecret: z.string().min(16).max(512),
      kind: z.enum(['launcher', 'kiosk']),
    })
    .optional(),
  /**
   * A fixed development player assertion (launchers only; a studio's game server issues real
   * ones). It must carry the device's `did` and lives minutes, so it only suits a short test
   * with a `device` credential; `devStudio` is what `npm start` hands over.
   */
  playerAssertion: z.string().min(10).max(8192).optional(),
  /** `npm start`'s demo studio: main asks it for a fresh device-pinned assertion per request (loopback only). */
  devStudio: z
    .strictObject({
      url: z.url({ protocol: /^http$/, hostname: /^(127\.0\.0\.1|localhost|\[::1\])$/ }),
      token: z.string().min(16).max(256),
    })
    .optional(),
  mode: z.enum(['window', 'overlay', 'kiosk', 'embedded']).optional(),
});
/** The handover document. */
export type Handover = z.infer<typeof HandoverSchema>;

/** Parses a handover document; null when absent or invalid. */
export function parseHandover(text: string | null): Handover | null {
  if (!text) return null;
  try {
    const parsed = HandoverSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
