import { describe, expect, it } from 'vitest';
import { RelayHandshakeError, isStandardReason, refusalDescription } from '../../src/relay/errors.js';

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
