import { createGotRelayHttp } from '../../main/adapters/relay-client.got.ts';
import type { RelayHttp } from '../../main/services/ports.ts';
import { systemClock } from '../../main/services/ports.ts';
import { RelayApi } from '../../main/services/relay/relay-api.ts';
import { type AntomMitm, startAntomMitm, UNSIGNED_INVALID_SIGNATURE } from '../../relay/test/support/antom-mitm.ts';
import { MemoryLogger } from '../../test/fakes/memory-stores.ts';
import type { Row } from '../matrix.ts';
import { clientBuy, kioskClientWithBinding } from './helpers.ts';

/** A RelayHttp that counts what it is asked to send before passing it on. */
function countingHttp(sent: string[]): RelayHttp {
  const inner = createGotRelayHttp();
  return {
    request: (req) => {
      sent.push(`${req.method} ${req.url}`);
      return inner.request(req);
    },
    stream: (req) => {
      sent.push(`GET ${req.url}`);
      return inner.stream(req);
    },
  };
}

let mitm: AntomMitm | undefined;

/** Issue 14 §5: plain http between the parts, and what an attacker on that path can do. */
export const httpsRows: Row[] = [
  {
    // A man in the middle between relay and Antom lets the pay through (the wallet is debited)
    // and hands the relay Antom's unsigned `F INVALID_SIGNATURE` instead of the answer. The
    // purchase must stay unknown and be settled by inquiry (SUCCEEDED, one debit), never FAILED.
    name: 'antom unsigned refusal',
    family: 'provider',
    runs: 3,
    stack: async () => ({
      interpose: async (sandboxUrl: string) => {
        mitm = await startAntomMitm(sandboxUrl);
        return mitm;
      },
    }),
    async run(ctx) {
      // Linked on the client's own screen: a kiosk client takes back no binding made before it started.
      const client = await kioskClientWithBinding(ctx);
      // Withheld, so the inquiry (not the notification) is what finds the real outcome.
      await ctx.stack.admin('POST', '/notifications/faults', { mode: 'withhold', count: 1 });
      mitm?.forge({ endpoint: '/v1/payments/pay', forward: true, answer: UNSIGNED_INVALID_SIGNATURE });
      const final = await clientBuy(ctx, client, { finalMs: 20_000 });
      ctx.expect(mitm?.forged.get('/v1/payments/pay') === 1, 'the pay answer was not forged');
      ctx.expect(final?.state === 'SUCCEEDED', `expected SUCCEEDED after inquiry, got ${JSON.stringify(final)}`);
      await ctx.stack.admin('POST', '/notifications/release');
      const state = await ctx.stack.admin('GET', '/state');
      const id = (final?.purchaseIntentId ?? '').replace(/-/g, '');
      const debits = (state.body['payments'] as { paymentRequestId: string; status: string }[]).filter(
        (p) => p.paymentRequestId.includes(id) && p.status === 'SUCCESS',
      );
      ctx.expect(debits.length === 1, `expected one debit, got ${debits.length}`);
    },
  },
  {
    // A packaged client given a plain-http relay URL (the default, a hand-edited setting, a
    // forged handover) refuses it with a typed error and sends nothing: neither the enrolment
    // code nor a signed request crosses the network in clear. The code stays unspent.
    name: 'client http relay url refused',
    family: 'client-attack',
    async run(ctx) {
      const relay = ctx.stack.relay.inProcess;
      ctx.expect(relay !== undefined, 'row needs the in-process relay');
      const { code } = await (relay as NonNullable<typeof relay>).devices.createEnrollmentCode({ label: 'packaged kiosk', kind: 'kiosk', lifetimeMs: 600_000 });
      const sent: string[] = [];
      const api = (
        isPackaged: boolean,
        credential: () => Promise<{ relayUrl: string; deviceId: string; deviceSecret: string; kind: 'kiosk' | 'launcher' } | null>,
      ) => new RelayApi({ http: countingHttp(sent), isPackaged, clock: systemClock, log: new MemoryLogger(), credential, retries: 0 });
      const url = ctx.stack.relay.url;
      const packaged = api(true, async () => ({
        relayUrl: url,
        deviceId: ctx.stack.kiosk.creds.deviceId,
        deviceSecret: ctx.stack.kiosk.creds.deviceSecret,
        kind: 'kiosk',
      }));
      const refusals = [
        await ctx.calls.call('packaged enrol over http', 5_000, () => packaged.enroll(url, code).then(() => 'sent'), ctx.payloads),
        await ctx.calls.call('packaged wallets over http', 5_000, () => packaged.wallets().then(() => 'sent'), ctx.payloads),
        await ctx.calls.call(
          'packaged events over http',
          5_000,
          () => packaged.openEvents(new AbortController().signal, null).then(() => 'sent'),
          ctx.payloads,
        ),
      ];
      ctx.expect(
        refusals.every((r) => r === undefined),
        `a packaged client talked to ${url}: ${JSON.stringify(refusals)}`,
      );
      const typed = ctx.calls.calls.filter((c) => c.label.startsWith('packaged ')).every((c) => c.outcome === 'typed-error');
      ctx.expect(typed, 'a refusal was not a typed error');
      ctx.expect(sent.length === 0, `requests were sent: ${sent.join(', ')}`);
      // The code never reached the relay: a development client on loopback can still use it.
      const dev = api(false, async () => null);
      // Not a client-visible payload (its answer is the device secret, which the scan looks for).
      const creds = await ctx.calls.call('dev enrol on loopback', 10_000, () => dev.enroll(url, code));
      ctx.expect(creds?.kind === 'kiosk', `the unsent code was not usable: ${JSON.stringify(creds?.kind)}`);
      if (creds) ctx.stack.secrets.push(creds.deviceSecret);
    },
  },
];
