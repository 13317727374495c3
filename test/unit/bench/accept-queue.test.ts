import { describe, expect, it } from 'vitest';
import { acceptQueueDelta, acceptQueueNote, parseNetstat, readAcceptQueue } from '../../../bench/accept-queue.ts';

/** A trimmed /proc/net/netstat: TcpExt and IpExt groups, names line then values line. */
const netstat = (overflows: number, drops: number, reqq: number): string =>
  [
    'TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPReqQFullDrop TCPTimeouts',
    `TcpExt: 0 ${overflows} ${drops} ${reqq} 7`,
    'IpExt: InNoRoutes ListenOverflows',
    'IpExt: 0 999',
    '',
  ].join('\n');

describe('accept-queue counters (bench #3)', () => {
  it('reads the TcpExt group only, by name, not by position', () => {
    const all = parseNetstat(netstat(650, 651, 3));
    expect(all.get('ListenOverflows')).toBe(650);
    expect(all.get('ListenDrops')).toBe(651);
    expect(all.get('TCPReqQFullDrop')).toBe(3);
    expect(all.get('TCPTimeouts')).toBe(7);
    expect(all.has('InNoRoutes')).toBe(false);
  });

  it('gives each counter growth per run in nstat names, and says so when the file is unreadable', () => {
    const runs = [
      acceptQueueDelta(
        readAcceptQueue(() => netstat(10, 10, 0)),
        readAcceptQueue(() => netstat(660, 661, 0)),
      ),
      acceptQueueDelta(
        readAcceptQueue(() => netstat(660, 661, 0)),
        readAcceptQueue(() => netstat(660, 661, 2)),
      ),
    ];
    expect(acceptQueueNote(runs)).toBe('accept queue growth per run: TcpExtListenOverflows 650/0, TcpExtListenDrops 651/0, TcpExtTCPReqQFullDrop 0/2');
    const unreadable = readAcceptQueue(() => {
      throw new Error('ENOENT');
    });
    expect(unreadable).toBeUndefined();
    expect(acceptQueueNote([...runs, acceptQueueDelta(unreadable, unreadable)])).toBe('accept queue: /proc/net/netstat not readable');
  });

  it('a counter missing from the kernel reads as 0', () => {
    expect(readAcceptQueue(() => 'TcpExt: ListenOverflows\nTcpExt: 4\n')).toEqual({ ListenOverflows: 4, ListenDrops: 0, TCPReqQFullDrop: 0 });
  });
});
