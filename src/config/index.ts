import { securityTxtProductionProblems } from '../http/security-txt-rfc.js';
import { configuredPublicUrl, isHttpsOrLoopback } from './public-url.js';
import { schema, type Config, type ConfigKey, type VarSpec } from './schema.js';

export type { Config } from './schema.js';

export interface ConfigProblem {
  key: string;
  reason: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  - ${p.key}: ${p.reason}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * Parses and validates the environment once. Collects every bad key before failing, so an
 * operator fixes them all in one go instead of one restart per mistake.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: ConfigProblem[] = [];
  const out: Record<string, unknown> = {};
  const fromEnv = new Set<ConfigKey>();
  for (const [key, spec] of Object.entries(schema) as [ConfigKey, VarSpec<unknown>][]) {
    const raw = env[key];
    if (raw !== undefined && raw !== '') fromEnv.add(key);
    const value = raw === undefined || raw === '' ? spec.default : raw;
    if (value === undefined) {
      out[key] = undefined;
      continue;
    }
    try {
      out[key] = spec.parse(value);
    } catch (err) {
      problems.push({ key, reason: (err as Error).message });
    }
  }
  const config = out as Config;
  if (problems.length === 0) problems.push(...consistencyProblems(config), ...productionProblems(config));
  if (problems.length > 0) throw new ConfigError(problems);
  SET_FROM_ENV.set(config, fromEnv);
  return config;
}

const SET_FROM_ENV = new WeakMap<Config, ReadonlySet<ConfigKey>>();

/**
 * Was `key` given in the environment (not just its default)? Site settings (src/settings/) that
 * an environment variable also sets yield to it only then. A config not made by loadConfig: no.
 */
export function isSetFromEnv(config: Config, key: ConfigKey): boolean {
  return SET_FROM_ENV.get(config)?.has(key) ?? false;
}

/**
 * Checks across variables, in every mode: a HOST that links can be built on when PUBLIC_URL is
 * unset, and a WebAuthn relying-party id that each passkey origin's host is (or ends in, at a
 * label boundary: `evilexample.com` does not end in `.example.com`).
 */
export function consistencyProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  let publicUrl: string | undefined;
  try {
    publicUrl = configuredPublicUrl(config);
  } catch (err) {
    problems.push({ key: 'HOST', reason: `${(err as Error).message}: set PUBLIC_URL` });
  }
  if (config.ALERT_WEBHOOK_URL !== undefined && config.ALERT_WEBHOOK_SECRET === undefined) {
    problems.push({
      key: 'ALERT_WEBHOOK_SECRET',
      reason: 'must be set with ALERT_WEBHOOK_URL: receivers verify every alert by its signature (docs/MONITORING.md)',
    });
  }
  const rpId = config.WEBAUTHN_RP_ID;
  const origins = config.WEBAUTHN_ORIGIN ?? (publicUrl === undefined ? [] : [new URL(publicUrl).origin]);
  if (rpId !== undefined) {
    for (const origin of origins) {
      const host = new URL(origin).hostname;
      if (host !== rpId && !host.endsWith(`.${rpId}`)) {
        problems.push({
          key: 'WEBAUTHN_RP_ID',
          reason: `"${rpId}" is not the host of ${origin} nor a parent domain of it (passkeys would never verify)`,
        });
      }
    }
  }
  return problems;
}

/**
 * With NODE_ENV=production the defaults that are fine on a laptop become dangerous: a generated
 * signing key silently differs per node, an embedded database is not what operators expect.
 */
export function productionProblems(config: Config): ConfigProblem[] {
  if (config.NODE_ENV !== 'production') return [];
  const problems: ConfigProblem[] = [];
  if (!config.JWT_SECRET && !config.JWT_PRIVATE_KEY_FILE) {
    problems.push({
      key: 'JWT_SECRET',
      reason:
        'must be set in production (at least 32 random characters) unless JWT_PRIVATE_KEY_FILE is: it encrypts the signing keys, and a generated one is per-machine',
    });
  }
  // security.txt: a contact and an unexpired Expires are required (RFC 9116, src/http/security-txt-rfc.ts).
  problems.push(...securityTxtProductionProblems(config));
  if (!config.AUDIT_SIGNING_KEY) {
    problems.push({
      key: 'AUDIT_SIGNING_KEY',
      reason:
        'must be set in production (an Ed25519 key, e.g. 32 random bytes in base64url): a generated key is per-machine, so checkpoints signed on one node would not verify on another',
    });
  }
  // MFA (src/security/mfa/): TOTP secrets encrypted by a per-machine key could not be read on another node.
  if (!config.MFA_ENCRYPTION_KEY) {
    problems.push({
      key: 'MFA_ENCRYPTION_KEY',
      reason:
        'must be set in production (at least 32 random characters): a generated key is per-machine, so TOTP secrets encrypted on one node could not be read on another',
    });
  }
  // Audit log personal data (src/security/audit/pii.ts): a per-machine key could not decrypt another node's events.
  if (!config.AUDIT_PII_KEY) {
    problems.push({
      key: 'AUDIT_PII_KEY',
      reason:
        'must be set in production (32 random bytes in base64): a generated key is per-machine, so the personal data in audit events encrypted on one node could not be read on another',
    });
  }
  // Plain http is accepted only towards a loopback host, compared exactly on the parsed URL
  // (src/config/public-url.ts): `http://localhost.evil.example`, `http://127.0.0.1.nip.io` and
  // `http://localhost:x@evil.example` name other hosts.
  // Backups and uploads (src/backup/, src/platform/blob/): S3 credentials and objects must not cross the network in clear text.
  if (config.AWS_S3_ENDPOINT !== undefined && !isHttpsOrLoopback(config.AWS_S3_ENDPOINT)) {
    problems.push({
      key: 'AWS_S3_ENDPOINT',
      reason:
        'must use https in production (S3 requests carry credentials and backups); http only to localhost, 127.0.0.0/8 or [::1]',
    });
  }
  // Uploads (src/security/uploads/): unscanned files must never be served in production.
  if (config.UPLOAD_SCAN === 'off') {
    problems.push({
      key: 'UPLOAD_SCAN',
      reason: 'off is refused in production: set CLAMAV_URL (uploads wait in quarantine without a scanner)',
    });
  }
  let publicUrl: string | undefined;
  try {
    publicUrl = configuredPublicUrl(config);
  } catch {
    // Reported on HOST by consistencyProblems.
  }
  if (publicUrl !== undefined && !isHttpsOrLoopback(publicUrl)) {
    problems.push({
      key: 'PUBLIC_URL',
      reason:
        config.PUBLIC_URL === undefined
          ? `must be set to the public https URL in production (unset, links would point to ${publicUrl})`
          : 'must use https in production (http only for localhost, 127.0.0.0/8 or [::1])',
    });
  }
  // Browser origins: a page served over http can be rewritten on the network, and with CORS
  // credentials (or passkeys) it would act as the user.
  for (const origin of config.CORS_ORIGINS) {
    if (!isHttpsOrLoopback(origin)) {
      problems.push({
        key: 'CORS_ORIGINS',
        reason: `"${origin}" must use https in production (http only for localhost, 127.0.0.0/8 or [::1])`,
      });
    }
  }
  for (const origin of config.WEBAUTHN_ORIGIN ?? []) {
    if (!isHttpsOrLoopback(origin)) {
      problems.push({
        key: 'WEBAUTHN_ORIGIN',
        reason: `"${origin}" must use https in production (http only for localhost, 127.0.0.0/8 or [::1])`,
      });
    }
  }
  return problems;
}

/** Values safe to log: secrets are replaced by a marker. */
export function describeConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema) as [ConfigKey, VarSpec<unknown>][]) {
    const v = config[key];
    out[key] = spec.secret && v !== undefined ? '[set]' : v;
  }
  return out;
}
