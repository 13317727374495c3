import { describe, expect, it } from 'vitest';
import { installCommand, missingPrerequisites, osFamily, packagesFor } from '../../../scripts/setup.mjs';

// `npm start` / `npm test` on a fresh machine: what the set-up says when a native-build prerequisite is missing.
const DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n';
const UBUNTU = 'ID=ubuntu\nID_LIKE=debian\n';
const FEDORA = 'ID=fedora\n';

describe('setup: system prerequisites', () => {
  it('names the OS family from the platform and /etc/os-release', () => {
    expect(osFamily('linux', DEBIAN)).toBe('debian');
    expect(osFamily('linux', UBUNTU)).toBe('debian');
    expect(osFamily('linux', FEDORA)).toBe('fedora');
    expect(osFamily('linux', 'ID=arch\n')).toBe('linux');
    expect(osFamily('linux', null)).toBe('linux');
    expect(osFamily('darwin', null)).toBe('macos');
    expect(osFamily('win32', null)).toBe('windows');
  });

  it('finds a missing libsecret and a missing compiler separately, and nothing to install on macOS or Windows', () => {
    const all = () => true;
    const noLibsecret = (cmd: string, args?: string[]) => !(cmd === 'pkg-config' && args?.includes('libsecret-1'));
    const noCompiler = (cmd: string) => cmd !== 'g++' && cmd !== 'c++';
    expect(missingPrerequisites('linux', all)).toEqual({ compiler: false, keychain: false });
    expect(missingPrerequisites('linux', noLibsecret)).toEqual({ compiler: false, keychain: true });
    expect(missingPrerequisites('linux', noCompiler)).toEqual({ compiler: true, keychain: false });
    expect(missingPrerequisites('darwin', () => false)).toEqual({ compiler: false, keychain: false });
    expect(missingPrerequisites('win32', () => false)).toEqual({ compiler: false, keychain: false });
  });

  it('names the exact install command for Debian/Ubuntu and Fedora, and none where it does not know one', () => {
    expect(installCommand('debian', packagesFor('debian', { compiler: false, keychain: true }))).toBe('sudo apt-get install -y pkg-config libsecret-1-dev');
    expect(installCommand('fedora', packagesFor('fedora', { compiler: true, keychain: true }))).toBe(
      'sudo dnf install -y python3 make gcc-c++ pkgconf-pkg-config libsecret-devel',
    );
    expect(installCommand('linux', packagesFor('linux', { compiler: true, keychain: true }))).toBeUndefined();
  });
});
