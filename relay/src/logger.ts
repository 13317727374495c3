import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Paths pino replaces with "[redacted]". The relay never logs bodies, tokens or keys on
 * purpose; this is the second line of defence should one slip into a log call.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.signature',
  'req.headers["x-signature"]',
  'req.headers["x-player-assertion"]',
  'req.headers["x-nonce"]',
  '*.accessToken',
  '*.refreshToken',
  '*.authCode',
  '*.deviceSecret',
  '*.secret',
  '*.privateKey',
  '*.paymentMethodId',
  '*.userLoginId',
  '*.keys',
  'accessToken',
  'refreshToken',
  'authCode',
  'deviceSecret',
  'userLoginId',
];

/** The relay's JSON logger (pino) with secrets redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'relay' } };
  return destination ? pino(options, destination) : pino(options);
}
