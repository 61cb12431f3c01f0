/**
 * The effective public base URL: the one place every link (signed media URLs, mails, OpenAPI
 * `servers`, security.txt, the CSRF and passkey origins) reads its base from.
 *
 * PUBLIC_URL when it is set. When it is unset, `http://HOST:PORT` as the server really listens:
 * the configured HOST (a wildcard becomes a loopback address a browser on the same machine can
 * reach: 0.0.0.0 → 127.0.0.1, :: → [::1]; IPv6 in brackets) and, once the server listens, the
 * port it is bound to (so PORT=0 links to the port the kernel picked). The app calls
 * `listening()` from its onListen hook (src/app.ts); before that (tests using inject, the CLI)
 * the configured PORT is used.
 *
 * Also the URL checks of the configuration (src/config/index.ts): hosts are compared exactly
 * after `new URL()` parsing, never by prefix or regular expression on the raw text.
 */
import net from 'node:net';
import type { Config } from './schema.js';

/** Anything a link can be built on: a URL string, a `URL`, or the app's `PublicUrl`. */
export type PublicUrlSource = string | { readonly href: string };

/** The text of a source, read now (a `PublicUrl` may change once the server listens). */
export function hrefOf(source: PublicUrlSource): string {
  return typeof source === 'string' ? source : source.href;
}

/**
 * The host part of a link to a server listening on `host`: wildcard addresses become loopback
 * addresses (a link to 0.0.0.0 does not work everywhere), IPv6 literals get brackets (and lose a
 * zone id, which URLs cannot carry), names are kept.
 */
export function linkHost(host: string): string {
  let h = host.trim();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  const zone = h.indexOf('%');
  if (zone >= 0 && net.isIPv6(h.slice(0, zone))) h = h.slice(0, zone);
  if (net.isIPv4(h)) return h === '0.0.0.0' ? '127.0.0.1' : h;
  if (net.isIPv6(h)) {
    const canonical = new URL(`http://[${h}]/`).hostname;
    return canonical === '[::]' ? '[::1]' : canonical;
  }
  return h;
}

/** `http://HOST:PORT` for a server listening there (see `linkHost`); throws when HOST is no host. */
export function listenUrl(host: string, port: number): string {
  const h = linkHost(host);
  const u = new URL(`http://${h}:${port}`);
  // Refuse what URL parsing would silently turn into another host ("a@b", "a/b", "a#b"...).
  if (u.hostname !== h.toLowerCase() || u.username !== '' || u.pathname !== '/') {
    throw new Error(`"${host}" cannot be used as the host of a link`);
  }
  return u.origin;
}

/** The effective public base URL of a running app (`app.publicUrl`). */
export class PublicUrl {
  /** True when PUBLIC_URL is unset and the URL follows HOST and the bound port. */
  readonly derived: boolean;
  private readonly host: string;
  private value: string;
  /** Parsed once per value: the CSRF check reads the origin on every browser-mode request. */
  private parsed: URL;

  constructor(config: Pick<Config, 'PUBLIC_URL' | 'HOST' | 'PORT'>) {
    this.derived = config.PUBLIC_URL === undefined;
    this.host = config.HOST;
    this.value = config.PUBLIC_URL ?? listenUrl(config.HOST, config.PORT);
    this.parsed = new URL(this.value);
  }

  /** Called once the server listens, with `server.address()`: a derived URL takes the real port. */
  listening(address: net.AddressInfo | string | null): void {
    if (!this.derived || address === null || typeof address === 'string') return;
    this.value = listenUrl(this.host, address.port);
    this.parsed = new URL(this.value);
  }

  /** The base URL as text: PUBLIC_URL as configured, or `http://host:port` (no trailing slash). */
  get href(): string {
    return this.value;
  }

  get origin(): string {
    return this.parsed.origin;
  }

  /** Host name as URL parsing gives it (lower-case; IPv6 in brackets). */
  get hostname(): string {
    return this.parsed.hostname;
  }

  toString(): string {
    return this.value;
  }
}

/** The public base URL as it is known without a listening server (config checks, CLI, scripts). */
export function configuredPublicUrl(config: Pick<Config, 'PUBLIC_URL' | 'HOST' | 'PORT'>): string {
  return config.PUBLIC_URL ?? listenUrl(config.HOST, config.PORT);
}

/**
 * Loopback host names, compared exactly on a parsed URL's `hostname` (lower-cased, IPv4
 * normalised, IPv6 bracketed and compressed by the URL parser): `localhost`, 127.0.0.0/8, [::1].
 * `localhost.evil.example`, `127.0.0.1.nip.io`, `localhost.` (trailing dot) and `[::1].evil` are
 * not loopback.
 */
export function isLoopbackHostname(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return net.isIPv4(hostname) && hostname.startsWith('127.');
}

/**
 * True when `raw` is an https URL, or an http URL whose host is exactly a loopback host (a local
 * test), the only plain-text URLs production accepts. Anything that does not parse is false.
 */
export function isHttpsOrLoopback(raw: string): boolean {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return false;
  }
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && isLoopbackHostname(u.hostname);
}
