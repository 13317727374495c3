import { describe, expect, it } from 'vitest';
import { launchEnvironment } from '../../../../main/services/launch-environment.ts';

const DEV_ENV = {
  NODE_ENV: 'development',
  SCAN_TO_BIND_USER_DATA: '/tmp/elsewhere',
  SCAN_TO_BIND_HANDOVER: '/tmp/handover.json',
  VITE_DEV_SERVER_URL: 'http://127.0.0.1:5173',
};

describe('launch environment', () => {
  it('a packaged build ignores the handover, user-data and dev variables', () => {
    expect(launchEnvironment(true, DEV_ENV)).toEqual({ isDev: false, userDataDir: null, handoverPath: null, devServerUrl: null });
  });

  it('an unpackaged development build honours them', () => {
    expect(launchEnvironment(false, DEV_ENV)).toEqual({
      isDev: true,
      userDataDir: '/tmp/elsewhere',
      handoverPath: '/tmp/handover.json',
      devServerUrl: 'http://127.0.0.1:5173',
    });
  });

  it('unpackaged without NODE_ENV=development (npm start, the tests): handover and user data, no dev server', () => {
    expect(launchEnvironment(false, { ...DEV_ENV, NODE_ENV: 'production' })).toEqual({
      isDev: false,
      userDataDir: '/tmp/elsewhere',
      handoverPath: '/tmp/handover.json',
      devServerUrl: null,
    });
  });

  it('empty values count as unset', () => {
    expect(launchEnvironment(false, { SCAN_TO_BIND_USER_DATA: '', SCAN_TO_BIND_HANDOVER: '' })).toEqual({
      isDev: false,
      userDataDir: null,
      handoverPath: null,
      devServerUrl: null,
    });
  });
});
