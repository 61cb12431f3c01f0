/**
 * The effective public URL when PUBLIC_URL is unset: http://HOST:PORT as the server listens.
 * Wildcard hosts become loopback addresses a browser can open, IPv6 gets brackets, and the real
 * port replaces PORT=0 once the server is bound. A configured PUBLIC_URL is never rewritten.
 */
import { describe, expect, it } from 'vitest';
import { isHttpsOrLoopback, isLoopbackHostname, linkHost, listenUrl, PublicUrl } from './public-url.js';

describe('public URL', () => {
  it('links to a reachable host for each HOST', () => {
    expect(linkHost('127.0.0.1')).toBe('127.0.0.1');
    expect(linkHost('0.0.0.0')).toBe('127.0.0.1');
    expect(linkHost('::')).toBe('[::1]');
    expect(linkHost('[::]')).toBe('[::1]');
    expect(linkHost('0:0:0:0:0:0:0:0')).toBe('[::1]');
    expect(linkHost('::1')).toBe('[::1]');
    expect(linkHost('2001:DB8::0001')).toBe('[2001:db8::1]');
    expect(linkHost('fe80::1%eth0')).toBe('[fe80::1]');
    expect(linkHost('localhost')).toBe('localhost');
    expect(listenUrl('::', 8080)).toBe('http://[::1]:8080');
    expect(listenUrl('0.0.0.0', 80)).toBe('http://127.0.0.1');
    expect(listenUrl('api.internal', 3000)).toBe('http://api.internal:3000');
    for (const host of ['evil.example@localhost', 'a/b', 'a#b', 'a b'])
      expect(() => listenUrl(host, 3000), host).toThrow();
  });

  it('follows the bound port when PUBLIC_URL is unset (PORT=0), and never rewrites a configured one', () => {
    const derived = new PublicUrl({ PUBLIC_URL: undefined, HOST: '0.0.0.0', PORT: 0 });
    expect(derived.derived).toBe(true);
    derived.listening({ address: '0.0.0.0', family: 'IPv4', port: 41234 });
    expect(derived.href).toBe('http://127.0.0.1:41234');
    expect(derived.origin).toBe('http://127.0.0.1:41234');

    const v6 = new PublicUrl({ PUBLIC_URL: undefined, HOST: '::', PORT: 0 });
    v6.listening({ address: '::', family: 'IPv6', port: 5555 });
    expect(v6.href).toBe('http://[::1]:5555');
    expect(v6.hostname).toBe('[::1]');

    const fixed = new PublicUrl({ PUBLIC_URL: 'https://api.example/base/', HOST: '0.0.0.0', PORT: 0 });
    fixed.listening({ address: '0.0.0.0', family: 'IPv4', port: 41234 });
    expect(fixed.href).toBe('https://api.example/base/');
  });

  it('loopback is an exact host, never a prefix', () => {
    for (const h of ['localhost', '127.0.0.1', '127.9.9.9', '[::1]']) expect(isLoopbackHostname(h), h).toBe(true);
    for (const h of [
      'localhost.',
      'localhost.evil.example',
      '127.0.0.1.nip.io',
      '[::ffff:7f00:1]',
      'evil.example',
      '128.0.0.1',
    ]) {
      expect(isLoopbackHostname(h), h).toBe(false);
    }
    expect(isHttpsOrLoopback('http://localhost.evil.example')).toBe(false);
    expect(isHttpsOrLoopback('http://localhost@evil.example')).toBe(false);
    expect(isHttpsOrLoopback('not a url')).toBe(false);
    expect(isHttpsOrLoopback('ftp://localhost')).toBe(false);
    expect(isHttpsOrLoopback('https://evil.example')).toBe(true);
  });
});
