/**
 * `mfa rewrap-keys`: after putting a new key first in MFA_ENCRYPTION_KEY (docs/MFA.md), re-encrypts
 * every stored TOTP secret under it, so the old key can then be removed. Loaded only when it runs.
 */
import { systemClock } from '../platform/clock.js';
import { loadOrCreateSecret } from '../platform/secrets/index.js';
import { MfaKeyRing } from '../security/mfa/crypto.js';
import { GENERATED_MFA_KEY_NAME, mfaSettingsOf } from '../security/mfa/plugin.js';
import { MfaService } from '../security/mfa/service.js';
import { UsersRepository } from '../users/repository.js';
import { CliError } from './errors.js';
import { withAuditedPlatform } from './platform.js';

export async function mfaRewrapKeys(): Promise<void> {
  await withAuditedPlatform(async ({ config, deps, audit }) => {
    const keys = new MfaKeyRing(
      config.MFA_ENCRYPTION_KEY ?? [await loadOrCreateSecret(config.DATA_DIR, GENERATED_MFA_KEY_NAME, 32)],
    );
    const users = new UsersRepository(deps.db);
    const mfa = new MfaService({
      db: deps.db,
      clock: systemClock,
      keys,
      settings: mfaSettingsOf(config),
      audit,
      getUser: (userId) => users.get(userId),
    });
    const result = await mfa.rewrapSecrets();
    process.stdout.write(`Re-encrypted ${result.rewrapped} TOTP secret(s) under key ${keys.currentKeyId}.\n`);
    if (result.failed > 0) {
      throw new CliError(
        `${result.failed} secret(s) could not be decrypted with any configured key; keep the old key until they are re-enrolled`,
      );
    }
  });
}
