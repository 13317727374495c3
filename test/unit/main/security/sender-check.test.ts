import { describe, expect, it } from 'vitest';
import { isTrustedSender } from '../../../../main/security/sender-check.ts';
import { TrustedWindows } from '../../../../main/security/trusted-windows.ts';
import { FakeWebContents, fakeInvokeEvent } from '../../../fakes/fake-electron.ts';

describe('isTrustedSender', () => {
  const trusted = new TrustedWindows();
  const ours = new FakeWebContents();
  trusted.add(ours.id);

  it('accepts the main frame of our window on app://', () => {
    expect(isTrustedSender(fakeInvokeEvent({ contents: ours }), trusted, {})).toBe(true);
  });

  it('refuses a sub-frame, even one on app://', () => {
    expect(isTrustedSender(fakeInvokeEvent({ contents: ours, subFrame: true }), trusted, {})).toBe(false);
  });

  it('refuses a window main did not create', () => {
    const foreign = new FakeWebContents();
    expect(isTrustedSender(fakeInvokeEvent({ contents: foreign }), trusted, {})).toBe(false);
  });

  it.each(['https://evil.test/', 'app://app.evil.test/index.html', 'file:///tmp/x.html', 'http://127.0.0.1:5173/', 'about:blank'])(
    'refuses our window when its frame shows %s',
    (frameUrl) => {
      expect(isTrustedSender(fakeInvokeEvent({ contents: ours, frameUrl }), trusted, {})).toBe(false);
    },
  );

  it('refuses a destroyed frame', () => {
    expect(isTrustedSender(fakeInvokeEvent({ contents: ours, frameGone: true }), trusted, {})).toBe(false);
  });

  it('forgets a closed window', () => {
    const w = new FakeWebContents();
    trusted.add(w.id);
    trusted.remove(w.id);
    expect(isTrustedSender(fakeInvokeEvent({ contents: w }), trusted, {})).toBe(false);
  });
});
