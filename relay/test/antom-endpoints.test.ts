import { describe, expect, it } from 'vitest';
import { type AntomReply, outcomeCode, readOutcome, unsettledCode } from '../src/antom/endpoints.ts';

/** Each API's answer is read once (endpoints.ts): status into the outcome's kind, the fields it carries into `answer`. */
const reply = (resultStatus: 'S' | 'F' | 'U', resultCode: string, body: Record<string, unknown> = {}): AntomReply => ({
  kind: 'answer',
  result: { resultStatus, resultCode },
  body: { ...body, result: { resultStatus, resultCode } },
});

describe('typed Antom outcomes', () => {
  it('S with what the API must carry succeeds with its answer; without it, it stays unknown', () => {
    const qr = {
      authCodeForm: {
        codeDetails: [
          { codeValueType: 'QRCODE', displayType: 'BIGIMAGE', codeValue: 'img' },
          { codeValueType: 'QRCODE', displayType: 'TEXT', codeValue: 'text' },
        ],
      },
    };
    expect(readOutcome('consult', reply('S', 'SUCCESS', qr))).toEqual({ kind: 'succeeded', code: 'SUCCESS', answer: { codeValue: 'text' } });
    expect(readOutcome('consult', reply('S', 'SUCCESS'))).toMatchObject({ kind: 'unknown', reason: 'malformed' });
    expect(
      readOutcome(
        'applyToken',
        reply('S', 'SUCCESS', { accessToken: 'tok', accessTokenExpiryTime: '2026-01-01T00:00:00Z', pspCustomerInfo: { displayCustomerId: '85****12' } }),
      ),
    ).toEqual({
      kind: 'succeeded',
      code: 'SUCCESS',
      answer: {
        accessToken: 'tok',
        accessTokenExpiresAt: Date.parse('2026-01-01T00:00:00Z'),
        refreshToken: undefined,
        refreshTokenExpiresAt: undefined,
        userLoginId: '85****12',
      },
    });
    expect(readOutcome('applyToken', reply('S', 'SUCCESS', { refreshToken: 'r' }))).toMatchObject({ kind: 'unknown', reason: 'malformed' });
  });

  it('reads only well-typed fields: a number where Antom writes a string, or a bad time, is left out', () => {
    expect(readOutcome('inquiryRefund', reply('S', 'SUCCESS', { refundStatus: 'SUCCESS', refundId: 7, refundTime: 'yesterday' }))).toEqual({
      kind: 'succeeded',
      code: 'SUCCESS',
      answer: { refundStatus: 'SUCCESS' },
    });
    const records = {
      declarationRecords: [{ declarationRequestId: 'd1', declarationRequestStatus: 'SUCCESS' }, { declarationRequestStatus: 'FAIL' }, 'x'],
      declarationRequestsNotFound: ['d9', 3],
    };
    expect(readOutcome('inquiryDeclarationRequests', reply('S', 'SUCCESS', records))).toEqual({
      kind: 'succeeded',
      code: 'SUCCESS',
      answer: { records: [{ declarationRequestId: 'd1', declarationRequestStatus: 'SUCCESS' }], notFound: ['d9'] },
    });
  });

  it('F is refused with its code, U is pending with what it said, no answer stays unknown with its reason', () => {
    expect(readOutcome('cancel', reply('F', 'ORDER_NOT_EXIST'))).toEqual({ kind: 'refused', code: 'ORDER_NOT_EXIST' });
    const pending = readOutcome('pay', reply('U', 'PAYMENT_IN_PROCESS', { paymentId: 'p-9' }));
    expect(pending).toEqual({ kind: 'pending', code: 'PAYMENT_IN_PROCESS', answer: { paymentId: 'p-9' } });
    const silence = readOutcome('revoke', { kind: 'unknown', reason: 'timeout', detail: 'no answer' });
    expect(silence).toEqual({ kind: 'unknown', reason: 'timeout', detail: 'no answer' });
    expect([outcomeCode(pending), outcomeCode(silence)]).toEqual(['PAYMENT_IN_PROCESS', 'timeout']);
    if (pending.kind !== 'pending' || silence.kind !== 'unknown') throw new Error('unreachable');
    expect([unsettledCode(pending), unsettledCode(silence)]).toEqual(['PAYMENT_IN_PROCESS', 'TIMEOUT']);
  });
});
