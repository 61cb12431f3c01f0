import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { scheduleHousekeeping } from '../../platform/housekeeping.js';
import { invitationAcceptRoutes, invitationAdminRoutes } from './routes.js';
import { Invitations } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Invitations: create, list, revoke, accept (docs/ACCOUNT_SECURITY.md). */
    invitations: Invitations;
  }
}

/**
 * `app.invitations` and its routes: the admin's (`/api/admin/invitations`, user:manage, step-up)
 * and the invitee's (`POST /api/auth/invitations/accept`, the shield's `invitation-accept` limit).
 */
export const invitationsPlugin = fp(
  async (app: FastifyInstance) => {
    const { db, clock, config } = app.deps;
    const invitations = new Invitations({
      db,
      clock,
      mail: app.mail,
      audit: app.audit,
      users: app.users,
      ttlSeconds: config.INVITATION_TTL,
    });
    app.decorate('invitations', invitations);
    // Invitations ended (accepted, revoked, expired) longer than INVITATION_RETENTION_MS ago go.
    scheduleHousekeeping(app, 'invitations', () => invitations.deleteStale());
    await app.register(invitationAdminRoutes);
    await app.register(invitationAcceptRoutes);
  },
  { name: 'invitations', dependencies: ['deps', 'users', 'mail', 'audit', 'authenticate', 'shield'] },
);
