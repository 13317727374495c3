/**
 * The webPreferences every window must get (window rule: one secure factory, fixed
 * webPreferences), written out by hand
 * so tests compare the factory against the checklist, not against itself.
 */
export function expectedSecureWebPreferences(preloadPath: string): Record<string, unknown> {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    devTools: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    safeDialogs: true,
    autoplayPolicy: 'user-gesture-required',
    enableWebSQL: false,
  };
}
