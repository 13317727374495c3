/**
 * Test vectors of the device request signature (relay/README.md "Signing every other request").
 * The relay's verifier (relay/test/secrets-and-identity.test.ts) and the client's signer
 * (test/unit/main/services/relay-rules.test.ts) both check these same literals, so the two
 * copies of the construction cannot drift apart. The expected values were computed outside
 * either implementation.
 */
export interface ClientSignatureVector {
  readonly name: string;
  readonly deviceSecret: string;
  readonly method: string;
  readonly pathWithQuery: string;
  readonly timestamp: string;
  readonly nonce: string;
  readonly body: string;
  /** The exact X-Player-Assertion header value; undefined when the request has none (kiosks). */
  readonly playerAssertion: string | undefined;
  readonly canonical: string;
  readonly signature: string;
}

/** hex(SHA-256("")): the body line of a GET and the assertion line of a request without one. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** A kiosk GET (no body, no assertion) and a launcher POST with a query, a body and an assertion. */
export const CLIENT_SIGNATURE_VECTORS: readonly ClientSignatureVector[] = [
  {
    name: 'kiosk GET without an assertion',
    deviceSecret: 'device-secret-text',
    method: 'GET',
    pathWithQuery: '/v1/wallets',
    timestamp: '1700000000000',
    nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
    body: '',
    playerAssertion: undefined,
    canonical: `GET\n/v1/wallets\n1700000000000\nAAAAAAAAAAAAAAAAAAAAAA\n${EMPTY_SHA256}\n${EMPTY_SHA256}`,
    signature: 'Y2d1v5mi1pojPhfnsIFu8NpFbRLNhFK5h8MiHguUXBU',
  },
  {
    name: 'launcher POST with a player assertion',
    deviceSecret: 'device-secret-text',
    method: 'POST',
    pathWithQuery: '/v1/purchases?x=1',
    timestamp: '1700000000000',
    nonce: 'bm9uY2Utbm9uY2Utbm9uY2U',
    body: '{"a":1}',
    playerAssertion: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJwLTEifQ.c2ln',
    canonical:
      'POST\n/v1/purchases?x=1\n1700000000000\nbm9uY2Utbm9uY2Utbm9uY2U\n' +
      '015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862\n' +
      'a7909e4a55f7fa93d8fc71a5066d51719c04f5908b018dd23284f2d609d806cd',
    signature: 'lTi7GdAT8OkAlbdO__lGr986Uj2bpGi9SbwJC3CogcE',
  },
];
