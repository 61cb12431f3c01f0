/**
 * The security.txt this environment would serve, rendered from the SECURITY_* variables exactly as
 * the server does and parsed by RFC 9116's rules. An expired (or soon expiring) file is the failure
 * this exists for: it silently tells researchers the contact may be dead.
 */
import { configuredPublicUrl } from '../../../src/config/public-url.js';
import { schema, type Config, type VarSpec } from '../../../src/config/schema.js';
import {
  EXPIRY_WARNING_MS,
  parseSecurityTxt,
  renderSecurityTxt,
  securityTxtFields,
  securityTxtProductionProblems,
  type SecurityTxtConfig,
} from '../../../src/http/security-txt-rfc.js';
import type { CheckResult } from './types.js';

const KEYS = [
  'NODE_ENV',
  'PUBLIC_URL',
  'HOST',
  'PORT',
  'SECURITY_CONTACT',
  'SECURITY_TXT_EXPIRES',
  'SECURITY_POLICY_URL',
  'SECURITY_ENCRYPTION_URL',
  'SECURITY_ACKNOWLEDGMENTS_URL',
  'SECURITY_PREFERRED_LANGUAGES',
] as const satisfies readonly (keyof typeof schema)[];

export function checkSecurityTxt(options: { env: Record<string, string | undefined>; now: Date }): CheckResult {
  const result: CheckResult = { name: 'security-txt', findings: [], notes: [] };
  const config: Record<string, unknown> = {};
  for (const key of KEYS) {
    const spec = schema[key] as VarSpec<unknown>;
    const raw = options.env[key];
    const value = raw === undefined || raw === '' ? spec.default : raw;
    if (value === undefined) continue;
    try {
      config[key] = spec.parse(value);
    } catch (err) {
      result.findings.push(`security-txt: ${key}: ${(err as Error).message}`);
    }
  }
  if (result.findings.length > 0) return result;
  const cfg = config as SecurityTxtConfig;
  for (const p of securityTxtProductionProblems(cfg, options.now))
    result.findings.push(`security-txt: ${p.key}: ${p.reason}`);

  // As the server would serve it before listening: PUBLIC_URL, or http://HOST:PORT.
  let publicUrl: string;
  try {
    publicUrl = configuredPublicUrl(config as Pick<Config, 'PUBLIC_URL' | 'HOST' | 'PORT'>);
  } catch (err) {
    result.findings.push(`security-txt: HOST: ${(err as Error).message}: set PUBLIC_URL`);
    return result;
  }
  const text = renderSecurityTxt(securityTxtFields(cfg, publicUrl, options.now));
  const report = parseSecurityTxt(text, { now: options.now, allowHttp: cfg.NODE_ENV !== 'production' });
  for (const e of report.errors) result.findings.push(`security-txt: ${e}`);
  for (const w of report.warnings) result.notes.push(`security-txt: ${w}`);

  const expires = report.fields.find((f) => f.name === 'Expires')?.value;
  if (expires && report.errors.length === 0) {
    const left = new Date(expires).getTime() - options.now.getTime();
    const days = Math.floor(left / 86_400_000);
    const source = cfg.SECURITY_TXT_EXPIRES
      ? 'SECURITY_TXT_EXPIRES'
      : 'development default, SECURITY_TXT_EXPIRES unset';
    if (left < EXPIRY_WARNING_MS)
      result.notes.push(`security-txt: expires in ${days} days (${expires}): renew SECURITY_TXT_EXPIRES soon`);
    else result.notes.push(`security-txt: valid, expires ${expires} (in ${days} days; ${source})`);
  }
  return result;
}
