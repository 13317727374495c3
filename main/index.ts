import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrap } from './platform/bootstrap.ts';

// The app's entry: everything else is in platform/bootstrap.ts (lock, crash hooks, scheme, runtime).
bootstrap(dirname(fileURLToPath(import.meta.url)));
