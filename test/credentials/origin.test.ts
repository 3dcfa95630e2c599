import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isOriginAllowed, normalizeAllowedOrigins } from '../../src/credentials/origin.ts';
import { InvalidOptionError } from '../../src/errors.ts';

function request(headers: Record<string, string>): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  Object.assign(req.headers, headers);
  return req;
}

describe('isOriginAllowed', () => {
  const none = normalizeAllowedOrigins([]);

  it('allows the proxy host itself, default ports folded', () => {
    expect(isOriginAllowed(request({ host: 'dash.local:8080', origin: 'http://dash.local:8080' }), none)).toBe(true);
    expect(isOriginAllowed(request({ host: 'dash.local', origin: 'https://dash.local:443' }), none)).toBe(true);
    expect(isOriginAllowed(request({ host: 'DASH.local', origin: 'https://dash.local' }), none)).toBe(true);
  });

  it('allows configured origins', () => {
    const allowed = normalizeAllowedOrigins(['https://ui.example.com/']);
    expect(isOriginAllowed(request({ host: 'api.example.com', origin: 'https://ui.example.com' }), allowed)).toBe(true);
  });

  it.each([
    ['a foreign origin', { host: 'dash.local', origin: 'https://evil.example' }],
    ['another port', { host: 'dash.local:8080', origin: 'http://dash.local:9090' }],
    ['no origin', { host: 'dash.local' }],
    ['the null origin', { host: 'dash.local', origin: 'null' }],
    ['a malformed origin', { host: 'dash.local', origin: 'http://' }],
    ['a host that does not parse', { host: 'a b', origin: 'http://a' }],
  ])('refuses %s', (_name, headers) => {
    expect(isOriginAllowed(request(headers), none)).toBe(false);
  });
});

describe('normalizeAllowedOrigins', () => {
  it.each([['not-a-url'], ['https://a.example/path'], ['null'], ['']])('refuses %j', (origin) => {
    expect(() => normalizeAllowedOrigins([origin])).toThrow(InvalidOptionError);
  });
});
