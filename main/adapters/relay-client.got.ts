import { once } from 'node:events';
import got, { RequestError } from 'got';
import { type HttpRequest, type HttpResponse, type RelayHttp, TransportError, type TransportFailure } from '../services/ports.ts';

const OFFLINE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);
const REFUSED = new Set(['ECONNREFUSED']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Maps got's / Node's error codes to a transport failure kind. */
export function transportKind(error: unknown): TransportFailure {
  const code = (error as { code?: unknown } | null)?.code;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || code === 'ETIMEDOUT') return 'timeout';
  if (name === 'AbortError' || code === 'ERR_ABORTED' || code === 'ABORT_ERR') return 'aborted';
  if (typeof code === 'string') {
    if (OFFLINE.has(code)) return 'offline';
    if (REFUSED.has(code)) return 'refused';
    if (RESET.has(code)) return 'reset';
    if (code.startsWith('ERR_TLS') || code.includes('CERT')) return 'tls';
  }
  return 'reset';
}

function asTransport(error: unknown): TransportError {
  return new TransportError(transportKind(error), error instanceof Error ? error.message.slice(0, 200) : undefined);
}

/**
 * RelayHttp on got. got's own retry is off: the relay client retries itself so that every
 * attempt is signed with a fresh nonce. No redirects are followed (a signed request must not
 * be replayed to another host); HTTP error statuses are returned, not thrown.
 */
export function createGotRelayHttp(): RelayHttp {
  const client = got.extend({ retry: { limit: 0 }, followRedirect: false, throwHttpErrors: false, decompress: true });
  return {
    async request(req: HttpRequest): Promise<HttpResponse> {
      try {
        const res = await client(req.url, {
          method: req.method,
          headers: req.headers,
          body: req.body,
          timeout: { request: req.timeoutMs },
          responseType: 'text',
        });
        return { status: res.statusCode, headers: res.headers as Record<string, string | undefined>, body: res.body };
      } catch (error) {
        throw error instanceof RequestError || error instanceof Error ? asTransport(error) : error;
      }
    },
    stream(req) {
      const stream = client.stream(req.url, {
        headers: req.headers,
        signal: req.signal,
        timeout: { connect: req.connectTimeoutMs, response: req.connectTimeoutMs },
      });
      return (async function* () {
        try {
          const [response] = (await once(stream, 'response')) as [{ statusCode: number }];
          if (response.statusCode < 200 || response.statusCode > 299) {
            stream.destroy();
            throw new TransportError('refused', `event stream answered HTTP ${response.statusCode}`);
          }
          stream.setEncoding('utf8');
          for await (const chunk of stream) yield String(chunk);
        } catch (error) {
          throw error instanceof TransportError ? error : asTransport(error);
        } finally {
          stream.destroy();
        }
      })();
    },
  };
}
