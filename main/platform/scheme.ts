import { protocol } from 'electron';
import { APP_SCHEME_PRIVILEGES } from '../security/app-protocol.ts';

/** Registers the privileged app:// scheme; must run before `app` is ready (embedding API). */
export function registerScanToBindScheme(): void {
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
}
