import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { acceptAddressProblem, isRelayHost } from '../../src/relay/accept-address.js';
import { parseConnectionString } from '../../src/relay/connection-string.js';
import { openDataSocket } from '../../src/relay/data-socket.js';

const azure = parseConnectionString(
  'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=l;SharedAccessKey=k;EntityPath=hyco',
);
const emulator = parseConnectionString(
  'Endpoint=sb://localhost:9443/;SharedAccessKeyName=l;SharedAccessKey=k;EntityPath=sub/hc-main;UseDevelopmentEmulator=false',
);
const plainIp = parseConnectionString(
  'Endpoint=sb://127.0.0.1:5000/;SharedAccessKeyName=l;SharedAccessKey=k;EntityPath=hc;UseDevelopmentEmulator=true',
);
const ipv6 = parseConnectionString(
  'Endpoint=sb://[::1]:5000/;SharedAccessKeyName=l;SharedAccessKey=k;EntityPath=hc;UseDevelopmentEmulator=true',
);

const Q = '?sb-hc-action=accept&sb-hc-id=0b8c2a34-2f7e-4b8e-9a57-1a2b3c4d5e6f_G12';

describe('accept address rule', () => {
  it.each([
    [`wss://g12-prod-by3-003-sb.servicebus.windows.net:443/$hc/hyco${Q}`, azure],
    [`wss://g12-prod-by3-003-sb.servicebus.windows.net/$hc/hyco${Q}`, azure],
    [`wss://contoso.servicebus.windows.net:443/$hc/HYCO${Q}`, azure],
    // A sender's path suffix and its own query parameters come along (the .NET listener reads them).
    [`wss://g1.servicebus.windows.net:443/$hc/hyco/some/suffix%20x?foo=bar&sb-hc-action=accept&sb-hc-id=1`, azure],
    // What the emulator builds: the Host the listener used + encodeURI(name).
    [`wss://localhost:9443/$hc/sub/hc-main${Q}`, emulator],
    [`ws://127.0.0.1:5000/$hc/hc${Q}`, plainIp],
    [`ws://[::1]:5000/$hc/hc${Q}`, ipv6],
  ])('passes %s', (address, cs) => {
    expect(acceptAddressProblem(address, cs)).toBeUndefined();
  });

  it.each([
    [`ws://g12.servicebus.windows.net/$hc/hyco${Q}`, azure, /scheme ws is not wss/],
    [`https://g12.servicebus.windows.net/$hc/hyco${Q}`, azure, /scheme https is not wss/],
    [`wss://g12.servicebus.windows.net:8443/$hc/hyco${Q}`, azure, /port 8443 is not the relay's port 443/],
    [`wss://g12.servicebus.windows.net:0443/$hc/hyco${Q}`, azure, /invalid port/],
    [`wss://g12.servicebus.windows.net:/$hc/hyco${Q}`, azure, /invalid port/],
    [`wss://evil.example.com/$hc/hyco${Q}`, azure, /host evil\.example\.com is not part of the relay/],
    [`wss://evilservicebus.windows.net/$hc/hyco${Q}`, azure, /not part of the relay/],
    [`wss://servicebus.windows.net.evil.com/$hc/hyco${Q}`, azure, /not part of the relay/],
    [`wss://10.0.0.1/$hc/hyco${Q}`, azure, /not part of the relay/],
    [`wss://user:pw@g12.servicebus.windows.net/$hc/hyco${Q}`, azure, /user information/],
    [`wss://g12.servicebus.windows.net/$hc/hyco${Q}\r\nX-Injected: 1`, azure, /control characters/],
    [`wss://g12.servicebus.windows.net/$hc/hyco${Q} HTTP/1.1`, azure, /characters a URL cannot carry/],
    [`wss://g12.servicebus.windows.net/$hc/hyco${Q}#frag`, azure, /characters a URL cannot carry/],
    [`wss://g12.servicebus.windows.net/$hc/hyco${Q}%zz`, azure, /percent-encoding/],
    [`wss://g12.servicebus.windows.net/$hc/other${Q}`, azure, /path is not \/\$hc\/hyco/],
    [`wss://g12.servicebus.windows.net/$hc/hycox${Q}`, azure, /path is not \/\$hc\/hyco/],
    [`wss://g12.servicebus.windows.net/$hc/hyco/../../x${Q}`, azure, /"\." or "\.\." segments/],
    [`wss://g12.servicebus.windows.net/elsewhere${Q}`, azure, /path does not start with \/\$hc\//],
    ['wss://g12.servicebus.windows.net/$hc/hyco', azure, /no sb-hc-action=accept/],
    ['wss://g12.servicebus.windows.net/$hc/hyco?sb-hc-action=listen', azure, /no sb-hc-action=accept/],
    [`wss://${'a'.repeat(64)}.servicebus.windows.net/$hc/hyco${Q}`, azure, /not a valid host name/],
    [`wss://g12.servicebus.windows.net/$hc/hyco${Q}&pad=${'x'.repeat(4096)}`, azure, /longer than 4096/],
    [`wss://localhost/$hc/sub/hc-main${Q}`, emulator, /no port; the relay's port is 9443/],
    [`wss://localhost:9444/$hc/sub/hc-main${Q}`, emulator, /port 9444/],
    [`wss://other.localhost:9443/$hc/sub/hc-main${Q}`, emulator, /not part of the relay/],
    [`ws://10.0.0.1:5000/$hc/hc${Q}`, plainIp, /host 10\.0\.0\.1 is not part of the relay/],
    [`ws://127.0.0.2:5000/$hc/hc${Q}`, plainIp, /not part of the relay/],
    [`ws://[::2]:5000/$hc/hc${Q}`, ipv6, /not part of the relay/],
    [`ws://[nope]:5000/$hc/hc${Q}`, ipv6, /invalid IPv6/],
  ])('refuses %s', (address, cs, problem) => {
    expect(acceptAddressProblem(address, cs)).toMatch(problem);
  });

  it('matches hosts exactly for IP literals and at a dot boundary under the parent domain for DNS names', () => {
    expect(isRelayHost('10.0.0.1', '127.0.0.1')).toBe(false);
    expect(isRelayHost('127.0.0.1', '127.0.0.1')).toBe(true);
    expect(isRelayHost('::1', '::1')).toBe(true);
    expect(isRelayHost('g1.servicebus.windows.net', 'contoso.servicebus.windows.net')).toBe(true);
    expect(isRelayHost('G1.ServiceBus.Windows.NET', 'contoso.servicebus.windows.net')).toBe(true);
    expect(isRelayHost('xservicebus.windows.net', 'contoso.servicebus.windows.net')).toBe(false);
    expect(isRelayHost('g1.windows.net', 'contoso.servicebus.windows.net')).toBe(false);
    expect(isRelayHost('a.localhost', 'localhost')).toBe(false);
    expect(isRelayHost('1.2.3.4', 'ns.example.com')).toBe(false);
  });

  it('never quotes a host that is not shaped like one', () => {
    const token = 'SharedAccessSignature sr=x&sig=abc%2B%3D&se=1&skn=l';
    expect(acceptAddressProblem(`wss://${encodeURIComponent(token)}/$hc/hyco${Q}`, azure)).not.toContain('sig');
  });
});

describe('the rendezvous request line', () => {
  it('is never written from an address with spaces or line breaks in it', async () => {
    const received: Buffer[] = [];
    const server = net.createServer((socket) => {
      socket.on('data', (c) => received.push(c));
      socket.on('error', () => undefined);
      setTimeout(() => socket.destroy(), 100);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const address = `ws://127.0.0.1:${port}/$hc/hc?sb-hc-action=accept HTTP/1.1\r\nX-Injected: yes\r\n\r\n`;
      await expect(openDataSocket(address, { transport: { timeoutMs: 2000 } })).rejects.toMatchObject({ code: 'E_PROTOCOL' });
      await new Promise((r) => setTimeout(r, 200));
      expect(Buffer.concat(received).toString('latin1')).not.toContain('X-Injected');
    } finally {
      server.close();
    }
  });
});
