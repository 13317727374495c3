import type { Session } from 'electron';

/**
 * Window rule, permissions denied unless needed: every permission request and check is refused.
 * The product needs none: the QR is drawn locally, the clipboard is written by main
 * (binding:copy-link), and no page is allowed camera, microphone, notifications, geolocation, HID,
 * serial or USB.
 */
export const ALLOWED_PERMISSIONS: readonly string[] = Object.freeze([]);

/** Installs deny-all permission handlers on a session. */
export function installPermissionGuards(session: Session, log: (m: string, f: Record<string, unknown>) => void): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    const allowed = ALLOWED_PERMISSIONS.includes(permission);
    if (!allowed) log('permission refused', { permission });
    callback(allowed);
  });
  session.setPermissionCheckHandler((_contents, permission) => ALLOWED_PERMISSIONS.includes(permission));
  session.setDevicePermissionHandler(() => false);
  session.setDisplayMediaRequestHandler((_request, callback) => callback({}));
}
