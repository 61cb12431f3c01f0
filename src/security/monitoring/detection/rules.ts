/**
 * The built-in detection rules (docs/MONITORING.md "Detection rules"), and how the operator's
 * MONITORING_RULES_FILE changes them: an entry with a built-in name changes the fields it gives,
 * a new name adds a rule (it must say its kind and what it needs), `"enabled": false` removes one.
 * The result is checked as a whole at boot (`resolveRules`), so a bad file stops the server with
 * the rule's name and the problem.
 */
import { AUDIT_ACTIONS } from '../../audit/actions.js';
import { CHECK_KINDS, type Field, type MatchSpec, type RuleKind, type RuleSpec, type Severity } from './rule-spec.js';

export interface Rule {
  name: string;
  kind: RuleKind;
  severity: Severity;
  threshold: number;
  /** Seconds. */
  window: number;
  dedupWindow: number;
  match: MatchSpec | undefined;
  failures: MatchSpec | undefined;
  groupBy: Field;
  distinct: Field | undefined;
  maxPerValue: number | undefined;
  minNetworks: number | undefined;
  interval: number;
  days: number;
  description: string;
}

const FAILED_LOGIN: MatchSpec = { actions: [AUDIT_ACTIONS.loginFailed] };

/** Admin actions: changes an admin makes to accounts, roles, settings, invitations and the audit log. */
export const ADMIN_ACTIONS = [
  'role.',
  AUDIT_ACTIONS.userAccessChanged,
  'invitation.created',
  'invitation.revoked',
  AUDIT_ACTIONS.settingsUpdated,
  AUDIT_ACTIONS.mfaReset,
  AUDIT_ACTIONS.auditExport,
  AUDIT_ACTIONS.auditPrune,
  AUDIT_ACTIONS.mediaReleased,
  'privacy.erasure.requested',
];

export const BUILT_IN_RULES: readonly RuleSpec[] = [
  {
    name: 'credential-stuffing-client',
    kind: 'distinct',
    severity: 'critical',
    match: FAILED_LOGIN,
    groupBy: 'ip',
    distinct: 'target',
    threshold: 10,
    window: 600,
    dedupWindow: 3600,
    description: 'Failed sign-ins on many different accounts from one client address.',
  },
  {
    name: 'credential-stuffing-network',
    kind: 'distinct',
    severity: 'critical',
    match: FAILED_LOGIN,
    groupBy: 'network',
    distinct: 'target',
    threshold: 20,
    window: 600,
    dedupWindow: 3600,
    description: 'Failed sign-ins on many different accounts from one network (/24 or /64).',
  },
  {
    name: 'password-spraying',
    kind: 'distinct',
    severity: 'critical',
    match: FAILED_LOGIN,
    groupBy: 'site',
    distinct: 'target',
    threshold: 50,
    maxPerValue: 3,
    minNetworks: 5,
    window: 3600,
    dedupWindow: 3600,
    description: 'Many accounts failing site-wide with few attempts each, from many networks.',
  },
  {
    name: 'account-many-clients',
    kind: 'distinct',
    severity: 'warning',
    match: FAILED_LOGIN,
    groupBy: 'target',
    distinct: 'ip',
    threshold: 10,
    window: 3600,
    dedupWindow: 3600,
    description: 'Failed sign-ins on one account from many client addresses.',
  },
  {
    name: 'success-after-failures',
    kind: 'after-failures',
    severity: 'warning',
    match: { actions: [AUDIT_ACTIONS.loginSucceeded, AUDIT_ACTIONS.mfaPasskeyLogin] },
    failures: FAILED_LOGIN,
    groupBy: 'target',
    threshold: 5,
    window: 900,
    dedupWindow: 3600,
    description: 'A successful sign-in after a burst of failures on the same account.',
  },
  {
    name: 'refresh-token-reuse',
    kind: 'event',
    severity: 'critical',
    match: { actions: [AUDIT_ACTIONS.refreshReused] },
    groupBy: 'actor',
    threshold: 1,
    dedupWindow: 3600,
    description: 'A rotated refresh token was presented again (its session was revoked).',
  },
  {
    name: 'token-binding-mismatch',
    kind: 'event',
    severity: 'warning',
    match: { actions: [AUDIT_ACTIONS.tokenBindingMismatch] },
    groupBy: 'actor',
    threshold: 5,
    window: 3600,
    dedupWindow: 3600,
    description: 'Tokens of one account presented from clients they are not bound to.',
  },
  {
    name: 'mfa-removed',
    kind: 'event',
    severity: 'warning',
    match: { actions: [AUDIT_ACTIONS.mfaDisabled, AUDIT_ACTIONS.mfaReset] },
    groupBy: 'target',
    threshold: 1,
    dedupWindow: 3600,
    description: 'A second factor was disabled by its user or reset by an admin.',
  },
  {
    name: 'privileged-role-granted',
    kind: 'event',
    severity: 'critical',
    match: {
      // role.* carry the role's permissions; user.access.changed those of the account's roles
      // before and after (src/users/service.ts): a grant is a permission after that was not before.
      actions: [AUDIT_ACTIONS.roleCreated, AUDIT_ACTIONS.roleUpdated, AUDIT_ACTIONS.userAccessChanged],
      grants: ['user:manage', 'security:manage'],
    },
    groupBy: 'target',
    threshold: 1,
    dedupWindow: 3600,
    description:
      'A role was created with, or given, user:manage or security:manage; or an account was given a role that holds one.',
  },
  {
    name: 'admin-new-network',
    kind: 'new-network',
    severity: 'warning',
    match: { actions: ADMIN_ACTIONS, userActor: true },
    groupBy: 'actor',
    threshold: 1,
    dedupWindow: 86_400,
    description: 'An admin action from a network this admin never acted from before.',
  },
  {
    name: 'upload-infected',
    kind: 'event',
    severity: 'warning',
    match: { actions: [AUDIT_ACTIONS.mediaInfected] },
    // The scan worker records it (actor system), the file is the target.
    groupBy: 'target',
    threshold: 1,
    dedupWindow: 3600,
    description: 'The virus scanner found malware in an upload.',
  },
  {
    name: 'client-blocked',
    kind: 'event',
    severity: 'info',
    match: { actions: [AUDIT_ACTIONS.clientBlocked] },
    groupBy: 'ip',
    threshold: 1,
    dedupWindow: 3600,
    description: 'The shield blocked a client automatically.',
  },
  {
    name: 'signing-key-rotated',
    kind: 'event',
    severity: 'info',
    match: { actions: [AUDIT_ACTIONS.keysRotated] },
    groupBy: 'target',
    threshold: 1,
    dedupWindow: 3600,
    description: 'An audit or token signing key was rotated.',
  },
  {
    name: 'backup-failed',
    kind: 'event',
    severity: 'critical',
    match: { actions: [AUDIT_ACTIONS.backupCreateFailed, 'backup.drill.failed', 'backup.restore.failed'] },
    groupBy: 'site',
    threshold: 1,
    dedupWindow: 86_400,
    description: 'A backup, its restore drill or a restore failed.',
  },
  {
    name: 'audit-chain-broken',
    kind: 'audit-verify',
    severity: 'critical',
    interval: 3600,
    dedupWindow: 86_400,
    description: 'The scheduled verification of the audit hash chain failed.',
  },
  {
    name: 'backup-rpo',
    kind: 'backup',
    severity: 'critical',
    interval: 900,
    dedupWindow: 86_400,
    description: 'No verified backup, or the newest is older than BACKUP_RPO_HOURS.',
  },
  {
    name: 'security-txt-expiring',
    kind: 'security-txt',
    severity: 'warning',
    interval: 86_400,
    days: 30,
    dedupWindow: 7 * 86_400,
    description: 'security.txt Expires is near (or past).',
  },
];

function complete(spec: RuleSpec): Rule {
  const label = `rule "${spec.name}"`;
  if (!spec.kind) throw new Error(`${label}: a new rule needs a kind`);
  const kind = spec.kind;
  const isCheck = CHECK_KINDS.includes(kind);
  if (!isCheck && !spec.match) throw new Error(`${label}: needs match`);
  if (kind === 'distinct' && !spec.distinct) throw new Error(`${label}: a distinct rule needs distinct`);
  if (kind === 'after-failures' && !spec.failures) throw new Error(`${label}: needs failures`);
  const window = spec.window ?? 3600;
  return {
    name: spec.name,
    kind,
    severity: spec.severity ?? 'warning',
    threshold: spec.threshold ?? 1,
    window,
    dedupWindow: spec.dedupWindow ?? Math.max(window, 3600),
    match: spec.match,
    failures: spec.failures,
    groupBy: spec.groupBy ?? 'site',
    distinct: spec.distinct,
    maxPerValue: spec.maxPerValue,
    minNetworks: spec.minNetworks,
    interval: spec.interval ?? 3600,
    days: spec.days ?? 30,
    description: spec.description ?? spec.name,
  };
}

/** Built-ins changed by the operator's entries, in order; throws with the rule's name when one is incomplete. */
export function resolveRules(overrides: readonly RuleSpec[] = []): Rule[] {
  const byName = new Map<string, RuleSpec>(BUILT_IN_RULES.map((r) => [r.name, { ...r }]));
  for (const o of overrides) {
    const base = byName.get(o.name);
    byName.set(o.name, base ? { ...base, ...o } : { ...o });
  }
  return [...byName.values()].filter((r) => r.enabled !== false).map(complete);
}
