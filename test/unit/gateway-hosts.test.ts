import { describe, expect, it } from 'vitest';
import { acceptAddressProblem, isRelayHost } from '../../src/relay/accept-address.js';
import { parseConnectionString } from '../../src/relay/connection-string.js';
import { GatewayLog, hostAndPort } from '../../src/relay/gateways.js';

/** The relay hosts the agent connected to (issue 15, item 4), and which of them it may be sent to. */

describe('GatewayLog', () => {
  it('keeps each host, port and use once with its last time, the control channel first and names in natural order', () => {
    const log = new GatewayLog();
    log.record('ns/a', 'g10-prod.servicebus.windows.net', 443, 'rendezvous', 1000);
    log.record('ns/a', 'G2-prod.servicebus.windows.net', 443, 'rendezvous', 2000);
    log.record('ns/a', 'contoso.servicebus.windows.net', 443, 'control', 3000);
    log.record('ns/a', 'g10-prod.servicebus.windows.net', 443, 'rendezvous', 4000);
    log.record('ns/b', 'other.servicebus.windows.net', 443, 'control', 5000);
    expect(log.list('ns/a')).toEqual([
      { host: 'contoso.servicebus.windows.net', port: 443, role: 'control', lastSeen: 3000 },
      { host: 'g2-prod.servicebus.windows.net', port: 443, role: 'rendezvous', lastSeen: 2000 },
      { host: 'g10-prod.servicebus.windows.net', port: 443, role: 'rendezvous', lastSeen: 4000 },
    ]);
    log.forget('ns/a');
    expect(log.list('ns/a')).toEqual([]);
    expect(log.list('ns/b')).toHaveLength(1);
  });

  it('is bounded per connection: the host seen longest ago goes first', () => {
    const log = new GatewayLog(3);
    log.record('c', 'g1.example.net', 443, 'rendezvous', 1);
    log.record('c', 'g2.example.net', 443, 'rendezvous', 2);
    log.record('c', 'g3.example.net', 443, 'rendezvous', 3);
    log.record('c', 'g1.example.net', 443, 'rendezvous', 4); // g1 is fresh again: g2 is now the oldest
    log.record('c', 'g4.example.net', 443, 'rendezvous', 5);
    expect(log.list('c').map((g) => g.host)).toEqual(['g1.example.net', 'g3.example.net', 'g4.example.net']);
  });

  it('reads host and port from accept addresses', () => {
    expect(hostAndPort('wss://g17-prod-am3-003-sb.servicebus.windows.net/$hc/x?sb-hc-action=accept')).toEqual({
      host: 'g17-prod-am3-003-sb.servicebus.windows.net',
      port: 443,
    });
    expect(hostAndPort('ws://G1-Contoso.localhost:9443/$hc/x')).toEqual({ host: 'g1-contoso.localhost', port: 9443 });
    expect(hostAndPort('wss://[::1]:8443/$hc/x')).toEqual({ host: '::1', port: 8443 });
    expect(hostAndPort('not a url')).toBeUndefined();
  });
});

describe('gateways under <namespace>.localhost (the emulator)', () => {
  const emulator = parseConnectionString('Endpoint=sb://contoso.localhost:9443/;SharedAccessKeyName=l;SharedAccessKey=k;EntityPath=orders');
  const Q = '?sb-hc-action=accept&sb-hc-id=1';

  it('belong to the relay: every name under localhost is this machine (RFC 6761)', () => {
    expect(isRelayHost('g1-contoso.localhost', 'contoso.localhost')).toBe(true);
    expect(acceptAddressProblem(`wss://g3-contoso.localhost:9443/$hc/orders${Q}`, emulator)).toBeUndefined();
  });

  it('still need the relay port, the scheme and a whole label', () => {
    expect(acceptAddressProblem(`wss://g3-contoso.localhost:9444/$hc/orders${Q}`, emulator)).toMatch(/port 9444/);
    expect(acceptAddressProblem(`ws://g3-contoso.localhost:9443/$hc/orders${Q}`, emulator)).toMatch(/scheme ws is not wss/);
    expect(isRelayHost('g1-contosolocalhost', 'contoso.localhost')).toBe(false);
    expect(isRelayHost('evil.localhost.example.com', 'contoso.localhost')).toBe(false);
  });

  it('leave the rule for two-label public names as it was', () => {
    expect(isRelayHost('evil.com', 'contoso.com')).toBe(false);
    expect(isRelayHost('a.localhost', 'localhost')).toBe(false);
    expect(isRelayHost('g1.servicebus.windows.net', 'contoso.servicebus.windows.net')).toBe(true);
  });
});
