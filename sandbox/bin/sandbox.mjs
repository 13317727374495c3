// `npm run sandbox`: the compiled sandbox with NODE_ENV=production, else the sources (scripts/server-entry.mjs).
import { runServerCli } from '../../scripts/server-entry.mjs';

await runServerCli('sandbox', new URL('..', import.meta.url));
