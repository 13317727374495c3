import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { serverBuild } from '../scripts/server-build.ts';

/** The sandbox compiled to sandbox/dist, run by `NODE_ENV=production npm run sandbox`. */
export default defineConfig(serverBuild(fileURLToPath(new URL('.', import.meta.url))));
