import { describe, expect, it } from 'vitest';
import { RelayHandshakeError, isStandardReason, quoteRelayText, refusalDescription } from '../../src/relay/errors.js';

describe('handshake refusals', () => {
  it("takes the relay's description from the reason phrase, and the body when the phrase is standard or missing", () => {
    expect(isStandardReason(404, 'Not Found')).toBe(true);
    expect(isStandardReason(404, 'not found')).toBe(true);
    expect(isStandardReason(404, undefined)).toBe(true);
    expect(isStandardReason(404, 'Forbidden')).toBe(false); // a phrase that does not belong to the status is information
    const described = 'There are no listeners connected for the endpoint. TrackingId:abc';
    expect(refusalDescription(404, described, 'ignored')).toBe(described);
    expect(refusalDescription(401, 'Unauthorized', 'InvalidSignature: TrackingId:x')).toBe('InvalidSignature: TrackingId:x');
    expect(refusalDescription(502, 'Bad Gateway', '')).toBe('Bad Gateway');
    expect(refusalDescription(500, '', '')).toBe('');
  });

  it('turns statuses into stable codes and keeps the TrackingId', () => {
    expect(new RelayHandshakeError(404, 'There are no listeners connected. TrackingId:t1')).toMatchObject({
      code: 'E_NO_LISTENERS',
      trackingId: 't1',
    });
    expect(new RelayHandshakeError(404, 'Endpoint does not exist')).toMatchObject({ code: 'E_NOT_FOUND' });
    expect(new RelayHandshakeError(403, 'x').code).toBe('E_FORBIDDEN');
    expect(new RelayHandshakeError(502, 'x').code).toBe('E_REJECTED');
  });
});

describe('quoted relay texts', () => {
  it('cuts a long text and says how much was cut', () => {
    const long = 'x'.repeat(10_000);
    const quoted = quoteRelayText(long);
    expect(quoted.length).toBeLessThan(400);
    expect(quoted).toMatch(/^x{300}… \(9700 more characters not shown\)$/);
    expect(quoteRelayText('short')).toBe('short');
    expect(quoteRelayText('a\r\nb\u001b[31m')).toBe('a b [31m');
  });

  it('caps the description of a refused handshake (a 10 KB status text is not printed whole)', () => {
    const err = new RelayHandshakeError(401, `${'y'.repeat(10_000)} TrackingId:abc`);
    expect(err.message.length).toBeLessThan(400);
    expect(err.description).toMatch(/more characters not shown/);
    expect(err.trackingId).toBe('abc');
  });
});
