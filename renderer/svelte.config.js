import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** Svelte 5 with runes everywhere. */
export default {
  preprocess: vitePreprocess(),
  compilerOptions: { runes: true, discloseVersion: false },
};
