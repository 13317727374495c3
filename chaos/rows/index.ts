import type { Row } from '../matrix.ts';
import { assertRows } from './assert.ts';
import { attackRows } from './attacks.ts';
import { crashRows } from './crash.ts';
import { fuzzRows } from './fuzz.ts';
import { httpsRows } from './https.ts';
import { keychainRows } from './keychain.ts';
import { kioskRows } from './kiosk.ts';
import { loadRows } from './load.ts';
import { notificationRows } from './notifications.ts';
import { postgresRows } from './postgres.ts';
import { providerRows } from './provider.ts';
import { raceRows } from './races.ts';
import { smallRows } from './small.ts';
import { streamRows } from './streams.ts';

/** Every row of the matrix, in the order of the issue. */
export const allRows: Row[] = [
  ...providerRows,
  ...notificationRows,
  ...attackRows,
  ...kioskRows,
  ...assertRows,
  ...streamRows,
  ...fuzzRows,
  ...raceRows,
  ...crashRows,
  ...loadRows,
  ...keychainRows,
  ...postgresRows,
  ...httpsRows,
  ...smallRows,
];
