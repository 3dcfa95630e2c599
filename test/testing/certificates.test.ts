import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, type IssueOptions } from 'kube-cluster-proxy/testing';

const ca = createCertificateAuthority({ commonName: 'test-ca' });
const caCert = new X509Certificate(ca.cert);

describe('createCertificateAuthority', () => {
  it('creates a self-signed CA certificate', () => {
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe('CN=test-ca');
    expect(caCert.issuer).toBe('CN=test-ca');
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    expect(caCert.checkIssued(caCert)).toBe(true);
  });

  it('issues a server certificate with subject alternative names, verified by the CA', () => {
    const { cert } = ca.issue({
      commonName: 'localhost',
      dnsNames: ['localhost', '*.example.test'],
      ipAddresses: ['127.0.0.1', '::1', '2001:db8::10.0.0.1'],
      usage: 'server',
      validDays: 2,
    });
    const x509 = new X509Certificate(cert);
    expect(x509.ca).toBe(false);
    expect(x509.verify(caCert.publicKey)).toBe(true);
    expect(x509.checkIssued(caCert)).toBe(true);
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkHost('api.example.test')).toBe('*.example.test');
    expect(x509.checkHost('other.test')).toBeUndefined();
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.checkIP('::1')).toBe('::1');
    expect(x509.checkIP('2001:db8::a00:1')).toBe('2001:db8::a00:1');
    expect(x509.checkIP('127.0.0.2')).toBeUndefined();
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    const lifetime = Date.parse(x509.validTo) - Date.parse(x509.validFrom);
    expect(lifetime).toBe(2 * 24 * 3600_000 + 3600_000);
  });

  it('puts organizations and the common name in the subject of a client certificate', () => {
    const x509 = new X509Certificate(ca.issue({ commonName: 'alice', organizations: ['devs', 'ops'], usage: 'client' }).cert);
    expect(x509.subject.split('\n')).toEqual(['O=devs', 'O=ops', 'CN=alice']);
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(x509.subjectAltName).toBeUndefined();
  });

  it('is not verified by another CA', () => {
    const other = createCertificateAuthority({ commonName: 'other-ca' });
    const x509 = new X509Certificate(other.issue({ commonName: 'x', usage: 'client' }).cert);
    expect(x509.verify(caCert.publicKey)).toBe(false);
  });

  it('serves a TLS handshake with server and client certificates', async () => {
    const serverPair = ca.issue({ commonName: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
    const clientPair = ca.issue({ commonName: 'bob', organizations: ['team'], usage: 'client' });
    const server = createServer({ ...serverPair, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (socket) => {
      const peer = socket.getPeerCertificate();
      socket.end(`hello ${String(peer.subject.CN)} of ${String(peer.subject.O)}`);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.cert, ...clientPair });
      await once(socket, 'secureConnect');
      expect(socket.authorized).toBe(true);
      const chunks: Buffer[] = [];
      for await (const chunk of socket) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('hello bob of team');
    } finally {
      server.close();
    }
  });

  it('fails the handshake for a client certificate from another CA', async () => {
    const serverPair = ca.issue({ commonName: 'server', ipAddresses: ['127.0.0.1'], usage: 'server' });
    const stranger = createCertificateAuthority({ commonName: 'stranger' }).issue({ commonName: 'eve', usage: 'client' });
    const server = createServer({ ...serverPair, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (socket) => socket.end('no'));
    const serverErrors: Error[] = [];
    server.on('tlsClientError', (error) => serverErrors.push(error));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const socket = connect({ host: '127.0.0.1', port, ca: ca.cert, ...stranger });
      const [error] = (await Promise.race([once(socket, 'error'), once(socket, 'end').then(() => [undefined])])) as [Error | undefined];
      socket.destroy();
      expect(error ?? serverErrors[0]).toBeInstanceOf(Error);
    } finally {
      server.close();
    }
  });

  it('rejects malformed options with messages naming the option', () => {
    const issue = (options: Partial<IssueOptions>) => () => ca.issue({ commonName: 'x', usage: 'server', ...options });
    expect(issue({ commonName: '' })).toThrow(/issue\(\): commonName must be a non-empty string/);
    expect(issue({ usage: 'both' as 'server' })).toThrow(/usage must be 'server' or 'client'/);
    expect(issue({ dnsNames: ['bad name'] })).toThrow(/dnsNames\[0\] must be a DNS name/);
    expect(issue({ dnsNames: 'localhost' as unknown as string[] })).toThrow(/dnsNames must be an array/);
    expect(issue({ ipAddresses: ['127.0.0.1', '300.1.1.1'] })).toThrow(/ipAddresses\[1\] must be an IPv4 or IPv6 address/);
    expect(issue({ organizations: [''] })).toThrow(/organizations\[0\]/);
    expect(issue({ validDays: 0 })).toThrow(RangeError);
    expect(issue({ validDays: Number.NaN })).toThrow(/validDays/);
    expect(() => createCertificateAuthority({ commonName: '  ' })).toThrow(/createCertificateAuthority\(\): commonName/);
  });
});
