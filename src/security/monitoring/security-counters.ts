/**
 * Security counters on /metrics, derived from the audit events this node records (after their
 * transaction commits: src/security/audit/service.ts `onRecorded`), so every module that already
 * writes its event is counted without a second call site to forget. Label values come from
 * closed sets only: an action, a method or a reason outside them is counted as "other", never
 * copied from the event (metrics never carry ids, emails, paths or free text).
 */
import { Counter, type Registry } from 'prom-client';
import { AUDIT_ACTIONS } from '../audit/actions.js';
import type { CleanEvent } from '../audit/event.js';

const MFA_METHODS = new Set(['totp', 'backup_code', 'passkey']);

function oneOf(value: unknown, allowed: ReadonlySet<string>): string {
  return typeof value === 'string' && allowed.has(value) ? value : 'other';
}

const OUTCOMES = new Set(['success', 'failure', 'denied']);

/** Upload verdicts by audit action. */
const UPLOAD_VERDICTS: Record<string, string> = {
  [AUDIT_ACTIONS.mediaInfected]: 'infected',
  [AUDIT_ACTIONS.mediaQuarantined]: 'quarantined',
  [AUDIT_ACTIONS.mediaRejected]: 'rejected',
  [AUDIT_ACTIONS.mediaReleased]: 'released',
  [AUDIT_ACTIONS.mediaIntegrityFailed]: 'integrity_failed',
};

export class SecurityCounters {
  readonly events: Counter<'outcome'>;
  readonly logins: Counter<'outcome' | 'method'>;
  readonly mfa: Counter<'method' | 'outcome'>;
  readonly mfaChanges: Counter<'change'>;
  readonly lockouts: Counter;
  readonly blocks: Counter;
  readonly tokensRevoked: Counter<'kind'>;
  readonly refreshReuse: Counter;
  readonly bindingMismatches: Counter;
  readonly uploads: Counter<'verdict'>;
  readonly keysRotated: Counter;

  constructor(registers: Registry[]) {
    this.events = new Counter({
      name: 'audit_events_recorded_total',
      help: 'Audit events recorded (committed) by this node, by outcome.',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.logins = new Counter({
      name: 'auth_logins_total',
      help: 'Sign-ins by outcome (success, failure) and first factor (password, passkey).',
      labelNames: ['outcome', 'method'] as const,
      registers,
    });
    this.mfa = new Counter({
      name: 'auth_mfa_verifications_total',
      help: 'Second-factor checks by method (totp, backup_code, passkey, other) and outcome.',
      labelNames: ['method', 'outcome'] as const,
      registers,
    });
    this.mfaChanges = new Counter({
      name: 'auth_mfa_changes_total',
      help: 'Second factors turned off: by the user (disabled) or by an admin (reset).',
      labelNames: ['change'] as const,
      registers,
    });
    this.lockouts = new Counter({
      name: 'auth_lockouts_total',
      help: 'Accounts locked after failed sign-ins.',
      registers,
    });
    this.blocks = new Counter({
      name: 'security_client_blocks_total',
      help: 'Clients blocked (automatic blocks recorded in the audit log).',
      registers,
    });
    this.tokensRevoked = new Counter({
      name: 'auth_tokens_revoked_total',
      help: 'Revocations: a token, or a session (all of its tokens).',
      labelNames: ['kind'] as const,
      registers,
    });
    this.refreshReuse = new Counter({
      name: 'auth_refresh_reuse_total',
      help: 'Refresh tokens presented again after rotation (the family is revoked).',
      registers,
    });
    this.bindingMismatches = new Counter({
      name: 'auth_token_binding_mismatches_total',
      help: 'Access tokens presented from a client they are not bound to.',
      registers,
    });
    this.uploads = new Counter({
      name: 'uploads_verdicts_total',
      help: 'Upload pipeline verdicts other than "available": infected, quarantined, rejected, integrity_failed; and quarantine releases.',
      labelNames: ['verdict'] as const,
      registers,
    });
    this.keysRotated = new Counter({ name: 'security_keys_rotated_total', help: 'Signing keys rotated.', registers });
  }

  /** Counts one committed audit event. */
  observe(event: CleanEvent): void {
    this.events.inc({ outcome: oneOf(event.outcome, OUTCOMES) });
    const action = event.action;
    switch (action) {
      case AUDIT_ACTIONS.loginSucceeded:
        this.logins.inc({ outcome: 'success', method: 'password' });
        return;
      case AUDIT_ACTIONS.mfaPasskeyLogin:
        this.logins.inc({ outcome: 'success', method: 'passkey' });
        return;
      case AUDIT_ACTIONS.loginFailed:
        this.logins.inc({ outcome: 'failure', method: 'password' });
        return;
      case AUDIT_ACTIONS.mfaVerifySucceeded:
      case AUDIT_ACTIONS.mfaVerifyFailed:
        this.mfa.inc({
          method: oneOf(event.metadata?.method, MFA_METHODS),
          outcome: action === AUDIT_ACTIONS.mfaVerifySucceeded ? 'success' : 'failure',
        });
        return;
      case AUDIT_ACTIONS.mfaDisabled:
        this.mfaChanges.inc({ change: 'disabled' });
        return;
      case AUDIT_ACTIONS.mfaReset:
        this.mfaChanges.inc({ change: 'reset' });
        return;
      case AUDIT_ACTIONS.lockout:
        this.lockouts.inc();
        return;
      case AUDIT_ACTIONS.clientBlocked:
        this.blocks.inc();
        return;
      case AUDIT_ACTIONS.tokenRevoked:
        this.tokensRevoked.inc({ kind: 'token' });
        return;
      case AUDIT_ACTIONS.sessionRevoked:
        this.tokensRevoked.inc({ kind: 'session' });
        return;
      case AUDIT_ACTIONS.refreshReused:
        this.refreshReuse.inc();
        return;
      case AUDIT_ACTIONS.tokenBindingMismatch:
        this.bindingMismatches.inc();
        return;
      case AUDIT_ACTIONS.keysRotated:
        this.keysRotated.inc();
        return;
      default: {
        const verdict = UPLOAD_VERDICTS[action];
        if (verdict) this.uploads.inc({ verdict });
      }
    }
  }
}
