/**
 * Configuration is validated once at boot: every bad key is reported together, and production
 * refuses defaults that are only safe on a laptop.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';
import { productionEnv } from '../../test/helpers/production-env.js';

function problemsOf(env: Record<string, string>): { key: string; reason: string }[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config', () => {
  it('runs on defaults with nothing set (embedded mode)', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.DATA_DIR).toBe('./data');
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.TRUST_PROXY).toBe(false);
    expect(config.CORS_ORIGINS).toEqual([]);
  });

  it('lists every bad key at once, each with its reason', () => {
    const problems = problemsOf({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', CORS_ORIGINS: '*' });
    expect(problems.map((p) => p.key).sort()).toEqual(['CORS_ORIGINS', 'DATABASE_URL', 'LOG_LEVEL', 'PORT']);
    expect(problems.find((p) => p.key === 'PORT')?.reason).toMatch(/integer/);
  });

  it('refuses TRUST_PROXY=true, which would let any client forge its IP', () => {
    const [p] = problemsOf({ TRUST_PROXY: 'true' });
    expect(p?.key).toBe('TRUST_PROXY');
    expect(p?.reason).toMatch(/forge/);
  });

  it('accepts TRUST_PROXY as a hop count or CIDR list, and rejects junk', () => {
    expect(loadConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, ::1' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '::1']);
    expect(problemsOf({ TRUST_PROXY: '10.0.0.0/33' })[0]?.key).toBe('TRUST_PROXY');
    expect(problemsOf({ TRUST_PROXY: 'proxy.example' })[0]?.key).toBe('TRUST_PROXY');
  });

  it('rejects CORS origins with paths or without a scheme', () => {
    expect(problemsOf({ CORS_ORIGINS: 'https://a.example/path' })[0]?.key).toBe('CORS_ORIGINS');
    expect(problemsOf({ CORS_ORIGINS: 'a.example' })[0]?.key).toBe('CORS_ORIGINS');
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:5173' }).CORS_ORIGINS).toEqual([
      'https://a.example',
      'http://localhost:5173',
    ]);
  });

  it('production refuses to start without configured secrets and says which', () => {
    const problems = problemsOf({ NODE_ENV: 'production', PUBLIC_URL: 'https://api.example' });
    expect(problems.map((p) => p.key)).toContain('JWT_SECRET');
    expect(problems.map((p) => p.key)).toContain('AUDIT_SIGNING_KEY');
    expect(problems.map((p) => p.key)).toContain('MFA_ENCRYPTION_KEY');
    expect(problems.map((p) => p.key)).toContain('AUDIT_PII_KEY');
  });

  it('production starts when the secrets are configured', () => {
    const config = loadConfig(productionEnv());
    expect(config.NODE_ENV).toBe('production');
  });

  it('refuses a short JWT_SECRET in any mode', () => {
    expect(problemsOf({ JWT_SECRET: 'short' })[0]?.key).toBe('JWT_SECRET');
  });
});

/**
 * URL checks compare the parsed host exactly (src/config/public-url.ts). Each hostile value below
 * names a host other than loopback while starting with (or containing) a loopback spelling; a
 * prefix or regular-expression check on the raw text let `http://localhost.evil.example` through.
 */
describe('URL checks anchor the host', () => {
  const production = productionEnv();
  const keysOf = (env: Record<string, string>) => problemsOf({ ...production, ...env }).map((p) => p.key);

  // Not loopback, although they start with or contain a loopback spelling.
  const hostile = [
    'http://localhost.evil.example',
    'http://localhost.evil.example:3000',
    'http://127.0.0.1.nip.io',
    'http://127.0.0.1.nip.io:8080/',
    'http://localhost%2eevil.example',
    'http://LOCALHOST.EVIL.EXAMPLE',
    'http://localhost.', // trailing dot: another name than localhost, refused
    'http://[::ffff:127.0.0.1]',
    'http://[::1].evil',
    'http://10.0.0.1',
    'http://evil.example/localhost',
    'http://evil.example/?host=127.0.0.1',
  ];
  // Refused by the parser in every mode: user info or a fragment hides the real host.
  const deceptive = [
    'http://localhost@evil.example',
    'http://localhost:3000@evil.example',
    'http://127.0.0.1:pass@evil.example',
    'http://@localhost',
    'https://evil.example#@localhost',
    'https://user:pw@api.example',
    'https://api.example/?next=x',
  ];
  // Really loopback: accepted over http for a local production test.
  const loopback = [
    'http://localhost:3000',
    'http://LOCALHOST:3000',
    'http://127.0.0.1:8080',
    'http://127.1',
    'http://127.0.0.1./',
    'http://[::1]:3000',
    'http://[0:0:0:0:0:0:0:1]',
  ];

  it('production PUBLIC_URL: http only to an exact loopback host', () => {
    for (const value of [...hostile, ...deceptive]) {
      expect(keysOf({ PUBLIC_URL: value }), value).toContain('PUBLIC_URL');
    }
    for (const value of loopback) expect(keysOf({ PUBLIC_URL: value }), value).toEqual([]);
    expect(keysOf({ PUBLIC_URL: 'https://api.example/base/' })).toEqual([]);
  });

  it('PUBLIC_URL with user info, a query or a fragment is refused in every mode', () => {
    for (const value of deceptive)
      expect(
        problemsOf({ PUBLIC_URL: value }).map((p) => p.key),
        value,
      ).toEqual(['PUBLIC_URL']);
  });

  it('production with PUBLIC_URL unset: only a loopback HOST passes, and the message names the link', () => {
    const { PUBLIC_URL: _unset, ...withoutUrl } = production;
    expect(problemsOf({ ...withoutUrl })).toEqual([]); // HOST 127.0.0.1
    expect(problemsOf({ ...withoutUrl, HOST: '0.0.0.0' })).toEqual([]); // links go to 127.0.0.1
    const [p] = problemsOf({ ...withoutUrl, HOST: '10.1.2.3', PORT: '8080' });
    expect(p?.key).toBe('PUBLIC_URL');
    expect(p?.reason).toContain('http://10.1.2.3:8080');
    expect(problemsOf({ HOST: 'evil.example@localhost' }).map((x) => x.key)).toEqual(['HOST']);
  });

  it('production AWS_S3_ENDPOINT: http only to an exact loopback host, never with user info', () => {
    for (const value of [...hostile, 'http://localhost:9000@evil.example', 'http://localhost.evil.example:9000/']) {
      expect(keysOf({ AWS_S3_ENDPOINT: value }), value).toContain('AWS_S3_ENDPOINT');
    }
    for (const value of deceptive)
      expect(
        problemsOf({ AWS_S3_ENDPOINT: value }).map((p) => p.key),
        value,
      ).toEqual(['AWS_S3_ENDPOINT']);
    for (const value of [
      'http://127.0.0.1:9000',
      'http://localhost:9000',
      'http://[::1]:9000',
      'https://minio.internal:9000',
    ]) {
      expect(keysOf({ AWS_S3_ENDPOINT: value }), value).toEqual([]);
    }
  });

  it('CORS and passkey origins: exact origins in every mode, https (or exact loopback) in production', () => {
    for (const key of ['CORS_ORIGINS', 'WEBAUTHN_ORIGIN']) {
      for (const value of [
        'http://localhost@evil.example',
        'https://evil.example#@localhost',
        'https://a.example/path',
        'HTTPS://A.EXAMPLE',
      ]) {
        expect(
          problemsOf({ [key]: value }).map((p) => p.key),
          `${key}=${value}`,
        ).toEqual([key]);
      }
      for (const value of [
        'http://localhost.evil.example',
        'http://127.0.0.1.nip.io:8080',
        'http://localhost.',
        'http://me.example',
      ]) {
        expect(keysOf({ [key]: value }), `${key}=${value}`).toContain(key);
      }
      expect(keysOf({ [key]: 'https://me.example, http://localhost:5173, http://[::1]:5173' })).toEqual([]);
    }
  });

  it('WEBAUTHN_RP_ID must be each origin host or a parent domain at a label boundary', () => {
    expect(
      problemsOf({ WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGIN: 'https://evilexample.com' }).map((p) => p.key),
    ).toEqual(['WEBAUTHN_RP_ID']);
    expect(
      problemsOf({ WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGIN: 'https://example.com.evil.example' }).map(
        (p) => p.key,
      ),
    ).toEqual(['WEBAUTHN_RP_ID']);
    expect(
      problemsOf({ WEBAUTHN_RP_ID: 'localhost', PUBLIC_URL: 'http://localhost.evil.example:3000' }).map((p) => p.key),
    ).toEqual(['WEBAUTHN_RP_ID']);
    expect(
      problemsOf({ WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGIN: 'https://example.com, https://login.example.com' }),
    ).toEqual([]);
    expect(problemsOf({ WEBAUTHN_RP_ID: 'localhost', PUBLIC_URL: 'http://localhost:3000' })).toEqual([]);
  });
});
