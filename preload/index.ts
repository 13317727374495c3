import { contextBridge, ipcRenderer } from 'electron';
import { buildApi } from './bridge.ts';

// The whole preload: expose the typed bridge, nothing else. Bundled to one CommonJS file
// (preload/vite.config.ts) because sandboxed preloads cannot be ES modules.
contextBridge.exposeInMainWorld('api', buildApi(ipcRenderer));
