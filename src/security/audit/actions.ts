/**
 * The action names the log, its reports and its dashboard know about. Modules may write others
 * (any dotted lowercase name is accepted); the ones here are counted by the compliance report and
 * charted by the dashboard, so a module that raises one of these events should use this name.
 */
export const AUDIT_ACTIONS = {
  loginSucceeded: 'auth.login.succeeded',
  loginFailed: 'auth.login.failed',
  loginSuspicious: 'auth.login.suspicious',
  register: 'auth.register',
  refresh: 'auth.refresh',
  lockout: 'account.locked',
  tokenRevoked: 'token.revoked',
  refreshReused: 'token.refresh.reused',
  rateLimited: 'ratelimit.limited',
  clientBlocked: 'ratelimit.blocked',
  auditRead: 'audit.read',
  auditExport: 'audit.export',
  auditPrune: 'audit.prune',
  adminRead: 'admin.read',
  /** Requests answered 429, aggregated per client and minute by the request hook (metadata.count). */
  httpLimited: 'http.limited',
  /** Requests refused 403 CLIENT_BLOCKED, aggregated the same way. */
  httpBlocked: 'http.blocked',
} as const;

/** Prefixes counted as one family in the report (e.g. every `token.revoked.*`). */
export const REPORT_FAMILIES = {
  loginsSucceeded: [AUDIT_ACTIONS.loginSucceeded],
  loginsFailed: [AUDIT_ACTIONS.loginFailed],
  lockouts: [AUDIT_ACTIONS.lockout, 'account.lockout', 'auth.lockout'],
  tokensRevoked: [AUDIT_ACTIONS.tokenRevoked, 'token.revoke'],
  reuseDetections: [AUDIT_ACTIONS.refreshReused],
  rateLimitBlocks: [AUDIT_ACTIONS.clientBlocked, 'ratelimit.block', 'shield.block'],
  exports: [AUDIT_ACTIONS.auditExport],
} as const;

/** Action of the automatic request log: `http.post`, `http.patch`, ... */
export function requestAction(method: string): string {
  return `http.${method.toLowerCase().replace(/[^a-z]/g, '')}`;
}
