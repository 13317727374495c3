import { generateKeyPairSync } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AntomClient } from '../src/antom/client.ts';
import { systemClock } from '../src/clock.ts';
import { ConfigError, loadConfig, parseConfig, type RelayConfigInput } from '../src/config.ts';

/**
 * Issue 14 §5: a relay talking to real Antom over plain http hands its signed calls and Antom's
 * answers to the network. http is for the sandbox only, which a `SANDBOX_` client id names
 * (Antom's SDKs switch to the sandbox path on that prefix); everything else must be https.
 */
const base = (baseUrl: string, clientId: string): RelayConfigInput => ({
  antom: { baseUrl, clientId },
  encryption: { activeKeyId: 'k1', keys: { k1: 'x' } },
});

describe('antom.baseUrl transport rule', () => {
  it('refuses http with a production client id, in code, from a file and from the environment', () => {
    expect(() => parseConfig(base('http://open-sea-global.alipay.com', 'LIVE_2188120000000001'))).toThrow(ConfigError);
    expect(() => parseConfig(base('http://127.0.0.1:8081', 'LIVE_1'))).toThrow(/antom\.baseUrl.*https/u);
    expect(() =>
      loadConfig({
        env: {
          ANTOM_BASE_URL: 'http://antom.example',
          ANTOM_CLIENT_ID: '2188120000000001',
          RELAY_ENCRYPTION_ACTIVE_KEY: 'k1',
          RELAY_ENCRYPTION_KEYS: '{"k1":"x"}',
        },
      }),
    ).toThrow(ConfigError);
    // The prefix is case-sensitive, as the SDKs' path switch that reads it.
    expect(() => parseConfig(base('http://127.0.0.1:8081', 'sandbox_1'))).toThrow(ConfigError);
  });

  it('accepts https for any client id and http for a sandbox client id', () => {
    expect(parseConfig(base('https://open-sea-global.alipay.com', 'LIVE_1')).antom.baseUrl).toBe('https://open-sea-global.alipay.com');
    expect(parseConfig(base('https://open-sea-global.alipay.com', 'SANDBOX_1')).antom.clientId).toBe('SANDBOX_1');
    expect(parseConfig(base('http://127.0.0.1:8081', 'SANDBOX_5YTEST0000000001')).antom.baseUrl).toBe('http://127.0.0.1:8081');
  });

  it('refuses other schemes', () => {
    expect(() => parseConfig(base('ftp://antom.example', 'SANDBOX_1'))).toThrow(ConfigError);
  });

  it('the Antom client applies the same rule to whoever builds it directly', () => {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const make = (baseUrl: string, clientId: string) =>
      new AntomClient({
        baseUrl,
        clientId,
        keyVersion: '1',
        merchantPrivateKey: keys.privateKey,
        antomPublicKey: keys.publicKey,
        timeoutMs: 1000,
        clock: systemClock,
        logger: pino({ level: 'silent' }),
      });
    expect(() => make('http://antom.example', 'LIVE_1')).toThrow(/https/u);
    make('http://127.0.0.1:9', 'SANDBOX_1').close();
    make('https://antom.example', 'LIVE_1').close();
  });
});
