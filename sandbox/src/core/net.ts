/** True for a peer on this machine (IPv4 loopback, IPv6 loopback, IPv4-mapped loopback). */
export function isLoopback(address: string | undefined): boolean {
  return address === '::1' || (address?.startsWith('127.') ?? false) || (address?.startsWith('::ffff:127.') ?? false);
}
