/**
 * Configuration is validated once at boot: every bad key is reported together, and production
 * refuses defaults that are only safe on a laptop.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';

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
  });

  it('production starts when the secrets are configured', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://api.example',
      JWT_SECRET: 'x'.repeat(48),
      SECURITY_TXT_EXPIRES: new Date(Date.now() + 180 * 86_400_000).toISOString(),
      SECURITY_CONTACT: 'mailto:security@example.com',
      AUDIT_SIGNING_KEY: 'A'.repeat(43),
      MFA_ENCRYPTION_KEY: 'M'.repeat(43),
    });
    expect(config.NODE_ENV).toBe('production');
  });

  it('refuses a short JWT_SECRET in any mode', () => {
    expect(problemsOf({ JWT_SECRET: 'short' })[0]?.key).toBe('JWT_SECRET');
  });
});
