import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  bitString,
  boolean,
  explicit,
  implicit,
  namedBits,
  objectIdentifier,
  octetString,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der.ts';

/** A PEM certificate with its PEM (PKCS#8) private key. */
export interface CertificateAndKey {
  /** The certificate, PEM encoded. */
  readonly cert: string;
  /** The private key (EC P-256, PKCS#8), PEM encoded. */
  readonly key: string;
}

/** What {@link CertificateAuthority.issue} puts in a certificate. */
export interface IssueOptions {
  /** Subject common name. Kubernetes reads it as the user name of a client certificate. Required, non-empty. */
  commonName: string;
  /** Subject organizations. Kubernetes reads them as the groups of a client certificate. Default: none. */
  organizations?: readonly string[];
  /** DNS names for the subjectAltName extension (`*.example.com` allowed). Default: none. */
  dnsNames?: readonly string[];
  /** IPv4 or IPv6 addresses for the subjectAltName extension. Default: none. */
  ipAddresses?: readonly string[];
  /** `'server'` sets the extended key usage serverAuth, `'client'` sets clientAuth. Required. */
  usage: 'server' | 'client';
  /** Validity in days from now (the certificate is also back-dated by one hour for clock skew). Default: 365. */
  validDays?: number;
}

/** Options of {@link createCertificateAuthority}. */
export interface CertificateAuthorityOptions {
  /** Common name of the self-signed CA certificate. Required, non-empty. */
  commonName: string;
  /** Validity of the CA certificate in days from now. Default: 3650. */
  validDays?: number;
}

/** A self-signed certificate authority able to issue server and client certificates. */
export interface CertificateAuthority extends CertificateAndKey {
  /** Issues a certificate signed by this CA; throws a `TypeError` or `RangeError` on invalid options. */
  issue(options: IssueOptions): CertificateAndKey;
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
const CLOCK_SKEW_MS = 60 * 60 * 1000;
const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** RFC 5280 key identifier: SHA-1 of the subjectPublicKey bits. */
  readonly keyId: Buffer;
}

function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  // The subjectPublicKey bits of an EC key are the uncompressed point 04 || x || y.
  const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  return { privateKey, publicKey, keyId: createHash('sha1').update(point).digest() };
}

function distinguishedName(commonName: string, organizations: readonly string[]): Buffer {
  const attribute = (oid: string, value: string) => set(sequence(objectIdentifier(oid), utf8String(value)));
  return sequence(
    ...organizations.map((organization) => attribute(OID.organization, organization)),
    attribute(OID.commonName, commonName),
  );
}

function extension(oid: string, critical: boolean, value: Uint8Array): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value));
}

function ipAddressBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  // IPv6: expand "::" and a trailing dotted IPv4 part into eight 16-bit groups.
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number);
    text = text.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = [...headGroups, ...(tail === undefined ? [] : zeros), ...tailGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}

function toPem(label: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function requireName(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`${option} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function requireStrings(value: unknown, option: string, check: (item: string) => boolean, rule: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`${option} must be an array of strings`);
  return value.map((item: unknown, index) => {
    if (typeof item !== 'string' || !check(item)) {
      throw new TypeError(`${option}[${index}] must be ${rule}, got ${JSON.stringify(item)}`);
    }
    return item;
  });
}

function requireDays(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 36500) {
    throw new RangeError(`${option} must be a number of days in (0, 36500], got ${JSON.stringify(value)}`);
  }
  return value;
}

interface CertificateFields {
  readonly subject: Buffer;
  readonly issuer: Buffer;
  readonly validDays: number;
  readonly subjectKeys: KeyPair;
  readonly issuerKeys: KeyPair;
  readonly extensions: readonly Buffer[];
}

function buildCertificate(fields: CertificateFields): string {
  const now = Date.now();
  const signatureAlgorithm = sequence(objectIdentifier(OID.ecdsaWithSha256));
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // serial numbers must be positive
  const tbs = sequence(
    explicit(0, smallInteger(2)), // version v3
    unsignedInteger(serial),
    signatureAlgorithm,
    fields.issuer,
    sequence(time(new Date(now - CLOCK_SKEW_MS)), time(new Date(now + fields.validDays * DAY_MS))),
    fields.subject,
    fields.subjectKeys.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(
      3,
      sequence(
        ...fields.extensions,
        extension(OID.subjectKeyIdentifier, false, octetString(fields.subjectKeys.keyId)),
        extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, fields.issuerKeys.keyId))),
      ),
    ),
  );
  const signature = sign('sha256', tbs, fields.issuerKeys.privateKey);
  return toPem('CERTIFICATE', sequence(tbs, signatureAlgorithm, bitString(signature)));
}

function exportKey(keys: KeyPair): string {
  return keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Creates a self-signed certificate authority (EC P-256, ECDSA with SHA-256) that issues
 * server and client certificates, e.g. for TLS tests or for the fake cluster's client certificates.
 *
 * @example
 * ```ts
 * const ca = createCertificateAuthority({ commonName: 'test-ca' });
 * const server = ca.issue({ commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
 * const alice = ca.issue({ commonName: 'alice', organizations: ['devs'], usage: 'client' });
 * ```
 */
export function createCertificateAuthority(options: CertificateAuthorityOptions): CertificateAuthority {
  const commonName = requireName(options.commonName, 'createCertificateAuthority(): commonName');
  const validDays = requireDays(options.validDays, 'createCertificateAuthority(): validDays', 3650);
  const caKeys = generateKeyPair();
  const caName = distinguishedName(commonName, []);
  const cert = buildCertificate({
    subject: caName,
    issuer: caName,
    validDays,
    subjectKeys: caKeys,
    issuerKeys: caKeys,
    extensions: [
      extension(OID.basicConstraints, true, sequence(boolean(true))),
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
    ],
  });

  return {
    cert,
    key: exportKey(caKeys),
    issue(issueOptions: IssueOptions): CertificateAndKey {
      const name = requireName(issueOptions.commonName, 'issue(): commonName');
      const organizations = requireStrings(issueOptions.organizations, 'issue(): organizations', (o) => o !== '', 'a non-empty string');
      const dnsNames = requireStrings(issueOptions.dnsNames, 'issue(): dnsNames', (d) => d.length <= 253 && DNS_NAME.test(d), 'a DNS name');
      const ipAddresses = requireStrings(issueOptions.ipAddresses, 'issue(): ipAddresses', (ip) => isIP(ip) !== 0, 'an IPv4 or IPv6 address');
      if (issueOptions.usage !== 'server' && issueOptions.usage !== 'client') {
        throw new TypeError(`issue(): usage must be 'server' or 'client', got ${JSON.stringify(issueOptions.usage)}`);
      }
      const keys = generateKeyPair();
      const alternativeNames = [
        ...dnsNames.map((dnsName) => implicit(2, Buffer.from(dnsName, 'ascii'))),
        ...ipAddresses.map((ip) => implicit(7, ipAddressBytes(ip))),
      ];
      return {
        cert: buildCertificate({
          subject: distinguishedName(name, organizations),
          issuer: caName,
          validDays: requireDays(issueOptions.validDays, 'issue(): validDays', 365),
          subjectKeys: keys,
          issuerKeys: caKeys,
          extensions: [
            extension(OID.basicConstraints, true, sequence()),
            extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature])),
            extension(OID.extKeyUsage, false, sequence(objectIdentifier(issueOptions.usage === 'server' ? OID.serverAuth : OID.clientAuth))),
            ...(alternativeNames.length > 0 ? [extension(OID.subjectAltName, false, sequence(...alternativeNames))] : []),
          ],
        }),
        key: exportKey(keys),
      };
    },
  };
}

