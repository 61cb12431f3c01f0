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
  accountUnlocked: 'account.unlocked',
  contactMessage: 'contact.message',
  mailDeliveryFailed: 'mail.delivery.failed',
  tokenRevoked: 'token.revoked',
  refreshReused: 'token.refresh.reused',
  tokenIssued: 'token.issued',
  tokenVerifyFailed: 'token.verify.failed',
  tokenBindingMismatch: 'token.binding.mismatch',
  sessionRevoked: 'session.revoked',
  keysRotated: 'keys.rotated',
  rateLimited: 'ratelimit.limited',
  /**
   * The shield placed an automatic block (src/security/shield/limiter.ts): one event per block,
   * actor system, ip the client key; metadata.level, until and reason. The requests refused while
   * blocked are `http.blocked`.
   */
  clientBlocked: 'ratelimit.blocked',
  auditRead: 'audit.read',
  auditExport: 'audit.export',
  auditPrune: 'audit.prune',
  /** The one-time re-chain that encrypted the personal data of events sealed before it (./pii.ts). */
  auditPiiRechained: 'audit.pii.rechained',
  /** Retention destroyed the audit data keys of months older than AUDIT_PII_RETENTION_DAYS. */
  auditPiiShredded: 'audit.pii.shredded',
  adminRead: 'admin.read',
  /** Requests answered 429, aggregated per client and minute by the request hook (metadata.count). */
  httpLimited: 'http.limited',
  /** Requests refused 403 CLIENT_BLOCKED, aggregated the same way. */
  httpBlocked: 'http.blocked',
  /** MFA (src/security/mfa/, docs/MFA.md). */
  mfaTotpEnrolled: 'mfa.totp.enrolled',
  mfaVerifySucceeded: 'mfa.verify.succeeded',
  mfaVerifyFailed: 'mfa.verify.failed',
  mfaBackupCodesUsed: 'mfa.backup_codes.used',
  /** Two or fewer backup codes left: a warning for the user (and the dashboard). */
  mfaBackupCodesLow: 'mfa.backup_codes.low',
  mfaBackupCodesRegenerated: 'mfa.backup_codes.regenerated',
  mfaDeviceTrusted: 'mfa.device.trusted',
  mfaDeviceRevoked: 'mfa.device.revoked',
  mfaDisabled: 'mfa.disabled',
  mfaReset: 'mfa.reset',
  mfaEnrollmentEnforced: 'mfa.enrollment.enforced',
  mfaPasskeyRegistered: 'mfa.passkey.registered',
  mfaPasskeyRenamed: 'mfa.passkey.renamed',
  mfaPasskeyRemoved: 'mfa.passkey.removed',
  mfaPasskeyLogin: 'mfa.passkey.login.succeeded',
  /** Uploads (src/security/uploads/): a file held in quarantine (metadata.reason: infected, scan_failed, ...). */
  mediaQuarantined: 'media.quarantined',
  mediaInfected: 'media.scan.infected',
  mediaRejected: 'media.rejected',
  mediaReleased: 'media.quarantine.released',
  mediaDeleted: 'media.deleted',
  /** A medium's language, alt text or caption changed (metadata.fields). */
  mediaUpdated: 'media.updated',
  /** Stored bytes no longer match their SHA-256 (detected while serving). */
  mediaIntegrityFailed: 'media.integrity.failed',
  /** Roles and permissions (src/users/roles.ts, docs/ROLES.md): metadata has the before/after. */
  roleCreated: 'role.created',
  roleUpdated: 'role.updated',
  /** metadata.reassignTo and the number of accounts moved. */
  roleDeleted: 'role.deleted',
  /**
   * An account's roles or status changed (metadata.rolesBefore, rolesAfter, disabled, and the
   * roles' permissions as before.permissions and after.permissions).
   */
  userAccessChanged: 'user.access.changed',
  /** Invitations (src/security/invitations/): made, used, withdrawn, and a used link tried again. */
  invitationCreated: 'invitation.created',
  invitationAccepted: 'invitation.accepted',
  invitationRevoked: 'invitation.revoked',
  invitationReplayRefused: 'invitation.replay_refused',
  /** Site languages and site texts (src/content/languages, src/content/texts; docs/CONTENT.md). */
  languageCreated: 'content.language.created',
  languageUpdated: 'content.language.updated',
  /** metadata.force and, with force, the translations removed per table. */
  languageDeleted: 'content.language.deleted',
  siteTextUpdated: 'content.text.updated',
  siteTextDeleted: 'content.text.deleted',
  /** metadata.lang, mode (merge or replace), and the counts written and removed. */
  siteTextsImported: 'content.texts.imported',
  /** Site settings (src/settings/, docs/SETTINGS.md): metadata.changes has each setting's before and after. */
  settingsUpdated: 'settings.updated',
  /** Scheduled publishing (src/content/schedule/): actor system; target portfolio or project, metadata.scheduledAt. */
  contentScheduledPublish: 'content.schedule.published',
  contentScheduledUnpublish: 'content.schedule.unpublished',
  /** Preview links (src/content/preview/): target the link, metadata.portfolioId and expiresAt. */
  previewLinkCreated: 'content.preview.created',
  previewLinkRevoked: 'content.preview.revoked',
  /**
   * Data exports (src/security/privacy/export/, docs/PRIVACY.md): target the subject (user),
   * metadata.exportId; a refused download link targets the export (metadata.reason).
   */
  privacyExportRequested: 'privacy.export.requested',
  privacyExportReady: 'privacy.export.ready',
  privacyExportFailed: 'privacy.export.failed',
  privacyExportDownloaded: 'privacy.export.downloaded',
  privacyExportLinkRefused: 'privacy.export.link_refused',
  /**
   * Erasure (src/security/privacy/erasure/, docs/PRIVACY.md): target the user (ids only, no
   * personal data); metadata.dueAt, by (self or admin), how a cancel came (link, sign_in, admin),
   * and the counts an erasure removed.
   */
  privacyErasureRequested: 'privacy.erasure.requested',
  privacyErasureCancelled: 'privacy.erasure.cancelled',
  privacyErasureCompleted: 'privacy.erasure.completed',
  privacyErasureReapplied: 'privacy.erasure.reapplied',
  /** Operator alerts (src/security/monitoring/alerts/): an admin acknowledged one (metadata.rule, severity). */
  alertAcknowledged: 'monitoring.alert.acknowledged',
  /**
   * `backup create` failed (src/backup/create.ts), from the CLI or a scheduled run: target the
   * file name when it had one, metadata.reason and detail (the one-sentence error).
   */
  backupCreateFailed: 'backup.create.failed',
  /** A retention pass deleted rows (metadata: counts per rule). */
  privacyRetentionApplied: 'privacy.retention.applied',
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

/**
 * The families an account's owner sees as its "recent security events" (GET /api/account/events):
 * sign-ins and their failures, lockouts and unlocks, password and email changes, tokens and
 * sessions, second factors, and an admin's changes to its roles or status. Prefixes end with a
 * dot so `auth.` never matches an `authx.` family.
 */
export const ACCOUNT_EVENT_PREFIXES: readonly string[] = [
  'auth.',
  'account.',
  'token.',
  'session.',
  'mfa.',
  'user.access.',
];

/** Action of the automatic request log: `http.post`, `http.patch`, ... */
export function requestAction(method: string): string {
  return `http.${method.toLowerCase().replace(/[^a-z]/g, '')}`;
}
