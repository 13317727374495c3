/** Sandbox client ids start with `SANDBOX_`; Antom's SDKs switch to the sandbox path on it. */
export function isSandboxClientId(clientId: string): boolean {
  return clientId.startsWith('SANDBOX_');
}

/**
 * Why the relay must not call Antom at `baseUrl` with `clientId`, or undefined when it may.
 * Antom is https only: over plain http the relay's signed calls (access tokens,
 * amounts) and Antom's answers travel in clear and a forged answer can be injected (issue 14
 * §5). Plain http is allowed only for a sandbox client id, i.e. the local sandbox.
 */
export function antomBaseUrlProblem(baseUrl: string, clientId: string): string | undefined {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return 'antom.baseUrl is not a URL';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    return isSandboxClientId(clientId) ? undefined : 'antom.baseUrl must be https:// (plain http only with a SANDBOX_ client id)';
  }
  return 'antom.baseUrl must be https:// (or http:// with a SANDBOX_ client id)';
}
