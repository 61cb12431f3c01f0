/**
 * `GET/PATCH /api/admin/settings` (docs/SETTINGS.md).
 *
 * Permission: `security:manage` (admins). The settings are site-wide and reach into security
 * mail: the site name is in the subject of every password-reset and sign-in alert (a phishing
 * lure if anyone could set it) and the authenticator issuer, the contact recipient decides who
 * reads every visitor's message. That is the shield's and MFA's level, not an editor's
 * `content:write_any`; `user:manage` is about accounts, which these are not. Changes also need a
 * recent sign-in (step-up, REAUTH_MAX_AGE).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Problem } from '../http/common-schemas.js';
import { actorOf } from '../http/request-identity.js';
import { requirePermission } from '../users/policy.js';
import { SettingsPatch, SettingsView } from './schema.js';

const security = [{ bearerAuth: [] }];
const tags = ['settings'];
const errors = { 400: Problem, 401: Problem, 403: Problem, 409: Problem };

export const settingsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.settings;
  app.addHook('onRequest', app.authenticate);
  // Before validation: a caller without the permission learns nothing about the bodies.
  app.addHook('onRequest', async (request) => requirePermission(actorOf(request), 'security:manage'));

  app.get(
    '/api/admin/settings',
    {
      schema: {
        tags,
        security,
        summary: 'The site settings: each value and the source that won (env, database or default)',
        response: { 200: SettingsView, ...errors },
      },
    },
    async () => service.view(),
  );

  app.patch(
    '/api/admin/settings',
    {
      onRequest: app.requireRecentAuth,
      schema: {
        tags,
        security,
        summary:
          'Change settings in one transaction (audited, before/after); null puts one back to its default. 409 SETTING_PINNED_BY_ENV when an environment variable sets it',
        body: SettingsPatch,
        response: { 200: SettingsView, ...errors },
      },
    },
    async (request) =>
      service.update({ actorId: actorOf(request).userId, context: app.audit.contextOf(request) }, request.body),
  );
};
