import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { serverBuild } from '../scripts/server-build.ts';

/** The relay compiled for production: relay/dist (relay/README.md, "Production"). */
export default defineConfig(serverBuild(fileURLToPath(new URL('.', import.meta.url))));
