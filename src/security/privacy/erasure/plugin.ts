import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { erasureLedgerDir, ErasureLedger } from './ledger.js';
import { erasureRoutes } from './routes.js';
import { ErasureService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Account erasure: requests, cancels and the erasure job (docs/PRIVACY.md "Erasure"). */
    privacyErasure: ErasureService;
  }
}

/**
 * `app.privacyErasure`, its routes, and its job on every node (the KV leader lease picks the one
 * that runs it, ERASURE_POLL_MS). A completed sign-in cancels the account's own pending erasure and
 * says so in the answer (`accountDeletionCancelled: true`); re-enabling an account an admin ordered
 * erased cancels that order. Declares `uploads` (media bytes are deleted from its store) and
 * `content` (the public read is touched in the erasure's transaction).
 */
export const erasurePlugin = fp(
  async (app: FastifyInstance) => {
    const { db, clock, kv, config } = app.deps;
    const service = new ErasureService({
      db,
      clock,
      kv,
      audit: app.audit,
      mail: app.mail,
      tokens: app.accounts.tokens,
      changes: app.content.publicChanges,
      revokeUser: (userId, reason) => app.tokens.revokeUser(userId, reason),
      userChanged: (userId) => app.tokens.userChanged(userId),
      mediaStore: app.uploads.store,
      ledger: new ErasureLedger(erasureLedgerDir(config.DATA_DIR)),
      outboxDir: config.SMTP_URL ? null : path.resolve(config.DATA_DIR, 'outbox'),
      graceDays: config.ACCOUNT_DELETION_GRACE_DAYS,
      intervalMs: config.ERASURE_POLL_MS,
      log: app.log,
    });
    app.decorate('privacyErasure', service);

    app.auth.onLoginCompleted(async ({ request, userId }) => {
      const cancelled = await service.cancelOnSignIn(userId, app.audit.contextOf(request));
      return cancelled ? { accountDeletionCancelled: true } : undefined;
    });
    app.users.onChanging(async (tx, userId, change) => {
      if (change.disabled === false) await service.cancelOnEnable(tx, userId);
    });

    await app.register(erasureRoutes);
    app.addHook('onReady', async () => service.start());
    app.addHook('onClose', async () => service.stop());
  },
  {
    name: 'privacy-erasure',
    dependencies: [
      'deps',
      'users',
      'audit',
      'mail',
      'tokens',
      'authenticate',
      'auth',
      'accounts',
      'mfa',
      'content',
      'uploads',
      'shield',
    ],
  },
);
