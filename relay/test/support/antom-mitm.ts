import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the man in the middle does to the next call of one Antom endpoint path suffix. */
export interface Forgery {
  /** Path suffix, e.g. `/v1/payments/pay`. */
  endpoint: string;
  /** Pass the request on to the real Antom first (it processes it: the debit happens) or drop it. */
  forward: boolean;
  /** The answer the relay gets instead of Antom's: written without Antom's signature. */
  answer: Record<string, unknown>;
  /** How many calls to forge (default 1). */
  count?: number;
}

/** A call the man in the middle holds before passing it on (`AntomMitm.hold`). */
export interface HeldCall {
  /** Resolves with the request body once the call arrived (it is then held). */
  arrived: Promise<string>;
  /** Passes the call on to the sandbox now (before or after it arrived). */
  release(): void;
}

/** A running man in the middle between the relay and the sandbox. */
export interface AntomMitm {
  url: string;
  /** Forges the next answer(s) of an endpoint. */
  forge(f: Forgery): void;
  /** Holds the next call of an endpoint path suffix (e.g. `/v1/payments/pay`) until released, then passes it on unchanged. */
  hold(endpoint: string): HeldCall;
  /** How many answers were forged so far, per endpoint suffix. */
  forged: Map<string, number>;
  /** The path of every call the relay made, in the order they arrived (forged or passed). */
  calls: string[];
  /** The request body of every call, in the same order as `calls`. */
  bodies: string[];
  close(): Promise<void>;
}

/** The answer Antom gives, without a signature, to a request whose signature it refused. */
export const UNSIGNED_INVALID_SIGNATURE = { result: { resultStatus: 'F', resultCode: 'INVALID_SIGNATURE', resultMessage: 'the signature is invalid' } };

/**
 * An HTTP server on 127.0.0.1 that stands where Antom is for the relay: it passes every call to
 * the real sandbox byte for byte and hands the sandbox's signed answer back, except for the
 * calls it was told to forge, whose answer it replaces with one it writes itself, unsigned
 * (it has no Antom key): the network attacker of the plain-http threat.
 */
export async function startAntomMitm(target: string): Promise<AntomMitm> {
  const rules: Forgery[] = [];
  const holds: { endpoint: string; arrive(body: string): void; released: Promise<void> }[] = [];
  const forged = new Map<string, number>();
  const calls: string[] = [];
  const bodies: string[] = [];
  const upstream = new URL(target);
  const pass = (path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const req = request({ hostname: upstream.hostname, port: upstream.port, path, method: 'POST', headers: { ...headers, host: upstream.host } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      calls.push(path);
      const body = Buffer.concat(chunks);
      bodies.push(body.toString('utf8'));
      const rule = rules.find((r) => path.endsWith(r.endpoint) && (r.count ?? 1) > 0);
      const held = holds.findIndex((h) => path.endsWith(h.endpoint));
      const hold = held >= 0 ? holds.splice(held, 1)[0] : undefined;
      void (async () => {
        if (hold) {
          hold.arrive(body.toString('utf8'));
          await hold.released;
        }
        if (rule) {
          rule.count = (rule.count ?? 1) - 1;
          forged.set(rule.endpoint, (forged.get(rule.endpoint) ?? 0) + 1);
          if (rule.forward) await pass(path, req.headers, body);
          const text = JSON.stringify(rule.answer);
          res.writeHead(200, {
            'content-type': 'application/json; charset=UTF-8',
            'client-id': String(req.headers['client-id'] ?? ''),
            'response-time': new Date().toISOString(),
          });
          res.end(text);
          return;
        }
        const answer = await pass(path, req.headers, body);
        const headers = Object.fromEntries(Object.entries(answer.headers).filter(([k]) => !['connection', 'keep-alive', 'transfer-encoding'].includes(k)));
        res.writeHead(answer.status, headers);
        res.end(answer.body);
      })().catch(() => res.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forge: (f) => rules.push({ ...f }),
    hold(endpoint) {
      let arrive: (body: string) => void = () => undefined;
      let release: () => void = () => undefined;
      const arrived = new Promise<string>((r) => {
        arrive = r;
      });
      const released = new Promise<void>((r) => {
        release = r;
      });
      holds.push({ endpoint, arrive, released });
      return { arrived, release };
    },
    forged,
    calls,
    bodies,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
