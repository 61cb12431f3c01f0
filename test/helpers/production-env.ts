/**
 * The smallest environment production accepts (src/config/index.ts productionProblems): every
 * required secret set, an https PUBLIC_URL and an unexpired security.txt. Tests add or override
 * one variable at a time to see what production refuses.
 */
export function productionEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://api.example',
    JWT_SECRET: 'x'.repeat(48),
    SECURITY_TXT_EXPIRES: new Date(Date.now() + 180 * 86_400_000).toISOString(),
    SECURITY_CONTACT: 'mailto:security@example.com',
    AUDIT_SIGNING_KEY: 'A'.repeat(43),
    MFA_ENCRYPTION_KEY: 'M'.repeat(43),
    AUDIT_PII_KEY: 'P'.repeat(43),
    ...extra,
  };
}
