// `npm run relay`: the compiled relay with NODE_ENV=production, else the sources (scripts/server-entry.mjs).
import { runServerCli } from '../../scripts/server-entry.mjs';

await runServerCli('relay', new URL('..', import.meta.url));
