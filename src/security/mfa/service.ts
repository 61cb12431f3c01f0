/**
 * `app.mfa`: one entry point to the parts of MFA, each in its own file. Every method hands the
 * call to the part that owns it:
 *
 * - enforcement.ts: the status, the login methods, enforcement by role;
 * - enrollment.ts: TOTP enrollment, backup codes, disabling MFA;
 * - factors.ts: checking and spending a code under the account lockout;
 * - challenges.ts: the login challenge (`mfaToken`) and its verification;
 * - devices.ts: trusted devices;
 * - recovery.ts: the admin reset and the re-encryption of TOTP secrets.
 *
 * Passkeys live in passkeys.ts and use the same challenges and audit trail. Every factor check
 * spends something through a compare-and-set in the repository, inside the transaction that also
 * consumes the login challenge: if either loses its race, both roll back.
 */
import { LoginChallenges } from './challenges.js';
import { MfaCore, type MfaServiceDeps } from './core.js';
import { TrustedDevices } from './devices.js';
import { MfaEnforcement } from './enforcement.js';
import { Enrollment } from './enrollment.js';
import { FactorChecks } from './factors.js';
import { MfaRecovery } from './recovery.js';
import { MfaRepository } from './repository.js';

export class MfaService {
  readonly repo: MfaRepository;
  private readonly enforcement: MfaEnforcement;
  private readonly enrollment: Enrollment;
  private readonly factors: FactorChecks;
  private readonly challenges: LoginChallenges;
  private readonly devices: TrustedDevices;
  private readonly recovery: MfaRecovery;

  constructor(d: MfaServiceDeps) {
    this.repo = new MfaRepository(d.db);
    const core = new MfaCore(d, this.repo);
    this.enforcement = new MfaEnforcement(core);
    this.factors = new FactorChecks(core);
    this.enrollment = new Enrollment(core, this.factors);
    this.challenges = new LoginChallenges(core, this.factors);
    this.devices = new TrustedDevices(core);
    this.recovery = new MfaRecovery(core);
  }

  // ---- status and enforcement (enforcement.ts) -------------------------------------------------

  status(...a: Parameters<MfaEnforcement['status']>) {
    return this.enforcement.status(...a);
  }
  loginMethods(...a: Parameters<MfaEnforcement['loginMethods']>) {
    return this.enforcement.loginMethods(...a);
  }
  enrollmentDeadline(...a: Parameters<MfaEnforcement['enrollmentDeadline']>) {
    return this.enforcement.enrollmentDeadline(...a);
  }

  // ---- enrollment, backup codes, disable (enrollment.ts) ---------------------------------------

  startTotpEnrollment(...a: Parameters<Enrollment['startTotpEnrollment']>) {
    return this.enrollment.startTotpEnrollment(...a);
  }
  confirmTotp(...a: Parameters<Enrollment['confirmTotp']>) {
    return this.enrollment.confirmTotp(...a);
  }
  regenerateBackupCodes(...a: Parameters<Enrollment['regenerateBackupCodes']>) {
    return this.enrollment.regenerateBackupCodes(...a);
  }
  issueBackupCodesIfNone(...a: Parameters<Enrollment['issueBackupCodesIfNone']>) {
    return this.enrollment.issueBackupCodesIfNone(...a);
  }
  disable(...a: Parameters<Enrollment['disable']>) {
    return this.enrollment.disable(...a);
  }

  // ---- factor checks (factors.ts) and the login challenge (challenges.ts) ----------------------

  checkFactor(...a: Parameters<FactorChecks['checkFactor']>) {
    return this.factors.checkFactor(...a);
  }
  createLoginChallenge(...a: Parameters<LoginChallenges['createLoginChallenge']>) {
    return this.challenges.createLoginChallenge(...a);
  }
  takeLoginChallenge(...a: Parameters<LoginChallenges['takeLoginChallenge']>) {
    return this.challenges.takeLoginChallenge(...a);
  }
  verifyLogin(...a: Parameters<LoginChallenges['verifyLogin']>) {
    return this.challenges.verifyLogin(...a);
  }
  completeChallenge(...a: Parameters<LoginChallenges['completeChallenge']>) {
    return this.challenges.completeChallenge(...a);
  }

  // ---- trusted devices (devices.ts) ------------------------------------------------------------

  trustDevice(...a: Parameters<TrustedDevices['trustDevice']>) {
    return this.devices.trustDevice(...a);
  }
  isTrustedDevice(...a: Parameters<TrustedDevices['isTrustedDevice']>) {
    return this.devices.isTrustedDevice(...a);
  }
  currentDeviceId(...a: Parameters<TrustedDevices['currentDeviceId']>) {
    return this.devices.currentDeviceId(...a);
  }
  listDevices(...a: Parameters<TrustedDevices['listDevices']>) {
    return this.devices.listDevices(...a);
  }
  revokeDevice(...a: Parameters<TrustedDevices['revokeDevice']>) {
    return this.devices.revokeDevice(...a);
  }
  revokeAllDevices(...a: Parameters<TrustedDevices['revokeAllDevices']>) {
    return this.devices.revokeAllDevices(...a);
  }

  // ---- admin reset, key rotation (recovery.ts) -------------------------------------------------

  resetUser(...a: Parameters<MfaRecovery['resetUser']>) {
    return this.recovery.resetUser(...a);
  }
  rewrapSecrets(...a: Parameters<MfaRecovery['rewrapSecrets']>) {
    return this.recovery.rewrapSecrets(...a);
  }
}
