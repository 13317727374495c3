/** Types of the set-up helpers in setup.mjs (plain JavaScript: it runs before node_modules exists). */
export interface MissingPrerequisites {
  readonly compiler: boolean;
  readonly keychain: boolean;
}
export function osFamily(platform: string, release: string | null): 'macos' | 'windows' | 'debian' | 'fedora' | 'linux';
export function installCommand(family: string, pkgs: readonly string[]): string | undefined;
export function missingPrerequisites(platform?: string, probe?: (cmd: string, args?: string[]) => boolean): MissingPrerequisites;
export function packagesFor(family: string, missing: MissingPrerequisites): string[];
