// `npm start` and `npm test` enter here. Plain Node, nothing from node_modules: on a fresh clone
// it checks the system prerequisites of the native builds, installs the npm packages when they
// are missing or older than the lock file, then runs scripts/<command>.ts with tsx.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(root, 'node_modules', '.scan-to-bind-install');
const COMMANDS = new Set(['start', 'test']);

/** @param {string} text */
function say(text) {
  console.log(`setup: ${text}`);
}

/** @param {string} cmd @param {string[]} args */
function has(cmd, args = ['--version']) {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

/**
 * Which OS family this is, for the install command we name.
 * @param {string} platform process.platform @param {string | null} release /etc/os-release, or null
 */
export function osFamily(platform, release) {
  if (platform === 'darwin') return 'macos';
  if (platform === 'win32') return 'windows';
  if (release === null) return 'linux';
  if (/^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/mu.test(release)) return 'debian';
  if (/^(ID|ID_LIKE)=.*\b(fedora|rhel|centos)\b/mu.test(release)) return 'fedora';
  return 'linux';
}

function thisOsFamily() {
  let release = null;
  try {
    release = readFileSync('/etc/os-release', 'utf8');
  } catch {
    // no os-release: a Linux we cannot name
  }
  return osFamily(process.platform, release);
}

/** System packages per family: [what is missing] → package names. */
const PACKAGES = {
  debian: { compiler: ['python3', 'make', 'g++'], keychain: ['pkg-config', 'libsecret-1-dev'] },
  fedora: { compiler: ['python3', 'make', 'gcc-c++'], keychain: ['pkgconf-pkg-config', 'libsecret-devel'] },
};

/**
 * The command that installs `pkgs` on this family, or undefined where none is known.
 * @param {string} family @param {string[]} pkgs
 */
export function installCommand(family, pkgs) {
  if (family === 'debian') return `sudo apt-get install -y ${pkgs.join(' ')}`;
  if (family === 'fedora') return `sudo dnf install -y ${pkgs.join(' ')}`;
  return undefined;
}

/**
 * What the native builds (keytar, better-sqlite3) need that this machine lacks: a compiler
 * toolchain for node-gyp (both modules), and libsecret's headers for keytar (Linux only; macOS
 * and Windows use their own keychains and need nothing).
 */
export function missingPrerequisites(platform = process.platform, probe = has) {
  if (platform !== 'linux') return { compiler: false, keychain: false };
  const compiler = !(probe('python3') && probe('make') && (probe('g++') || probe('c++')));
  const keychain = !(probe('pkg-config') && probe('pkg-config', ['--exists', 'libsecret-1']));
  return { compiler, keychain };
}

/** Installs the missing system packages where we may (root on Debian), naming them first. */
function provideSystemPackages() {
  let missing = missingPrerequisites();
  if (!missing.compiler && !missing.keychain) return missing;
  const family = thisOsFamily();
  const table = PACKAGES[family];
  const pkgs = packagesFor(family, missing);
  if (family === 'debian' && process.getuid?.() === 0 && has('apt-get', ['--version'])) {
    say(`installing the system packages the native builds need: ${pkgs.join(' ')} (apt-get, as root)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
    missing = missingPrerequisites();
  }
  if (missing.compiler) {
    const cmd = installCommand(family, table?.compiler ?? []);
    console.error(`setup: the native modules need a C++ toolchain (python3, make, g++).${cmd ? ` Install it with:\n  ${cmd}` : ''}`);
    process.exit(1);
  }
  if (missing.keychain) {
    const cmd = installCommand(family, table?.keychain ?? []);
    say(
      `libsecret (the OS keychain library) is missing, so keytar is left out: the services and the browser preview run, and the app says that the keychain is unavailable.${cmd ? `\n  To add it: ${cmd}, then run this again.` : ''}`,
    );
  }
  return missing;
}

function lockHash() {
  return createHash('sha256')
    .update(readFileSync(join(root, 'package-lock.json')))
    .digest('hex');
}

/** True when node_modules was installed from the current lock file. */
function installIsFresh(hash) {
  if (existsSync(STAMP)) return readFileSync(STAMP, 'utf8').trim() === hash;
  // Installed before this script existed: trust npm's own record when it is newer than the lock file.
  const record = join(root, 'node_modules', '.package-lock.json');
  return existsSync(record) && statSync(record).mtimeMs >= statSync(join(root, 'package-lock.json')).mtimeMs && existsSync(join(root, 'node_modules', 'tsx'));
}

function ensureInstalled() {
  const hash = lockHash();
  if (installIsFresh(hash)) {
    if (!existsSync(STAMP)) writeFileSync(STAMP, `${hash}\n`);
    return;
  }
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    console.error(`setup: Node ${process.versions.node} is too old: this project needs Node 20.19 or newer (22.12+ recommended).`);
    process.exit(1);
  }
  provideSystemPackages();
  say(
    existsSync(join(root, 'node_modules'))
      ? 'the lock file changed: npm ci'
      : 'first run: installing the npm packages (npm ci, about two minutes: it compiles two native modules)',
  );
  const started = Date.now();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('setup: npm ci failed (see above).');
    process.exit(r.status ?? 1);
  }
  writeFileSync(STAMP, `${hash}\n`);
  say(`npm packages installed in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** The package list that provides what is missing on this family. @param {string} family */
export function packagesFor(family, missing) {
  const table = PACKAGES[family];
  return table ? [...(missing.compiler ? table.compiler : []), ...(missing.keychain ? table.keychain : [])] : [];
}

// Run only as the entry point (`node scripts/setup.mjs …`), not when a test imports the helpers.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();

function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (!command || !COMMANDS.has(command)) {
    console.error('usage: node scripts/setup.mjs start|test [args...]');
    process.exit(2);
  }
  ensureInstalled();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts', `${command}.ts`), ...rest], { cwd: root, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
