/**
 * HTTP of site languages: the public list (cacheable), the admin routes and the
 * missing-translation report.
 *
 * Permissions (src/users/policy.ts): reading the admin list and the report needs
 * `content:read_any` (they show every user's portfolios); changing languages needs
 * `content:write_any`. The languages are site-wide: a change (disabling, a forced delete that
 * removes translations from every portfolio) acts on everyone's content, which is exactly what
 * `content:write_any` grants (editors and admins) and what a plain user's `portfolio:write`, for
 * their own content, does not. Deleting also needs a recent sign-in (step-up, REAUTH_MAX_AGE).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Problem } from '../../http/common-schemas.js';
import { sendCacheable } from '../../http/http-cache.js';
import { guardSiteAdmin } from './site-admin.js';
import {
  DeleteQuery,
  Language,
  LanguageCreate,
  LanguageList,
  LanguageParams,
  LanguagePatch,
  MissingQuery,
  MissingReport,
  PublicLanguageList,
} from './schema.js';

const security = [{ bearerAuth: [] }];
const tags = ['languages'];
const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };
const NotModified = Type.Null({ description: 'Not modified: the If-None-Match tag is current' });

export const adminLanguageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.languages;
  const by = guardSiteAdmin(app);

  app.get(
    '/api/admin/languages',
    {
      schema: {
        tags,
        security,
        summary: 'Every site language, the default first',
        response: { 200: LanguageList, ...errors },
      },
    },
    async () => ({ items: await service.list() }),
  );

  app.post(
    '/api/admin/languages',
    {
      schema: {
        tags,
        security,
        summary: 'Add a language (code canonicalised: pt-br becomes pt-BR; names default from the code)',
        body: LanguageCreate,
        response: { 201: Language, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await service.create(by(request), request.body)),
  );

  app.patch(
    '/api/admin/languages/:code',
    {
      schema: {
        tags,
        security,
        summary: 'Change a language: names, enabled, fallback chain, or make it the default (one transaction)',
        params: LanguageParams,
        body: LanguagePatch,
        response: { 200: Language, ...errors },
      },
    },
    async (request) => service.update(by(request), request.params.code, request.body),
  );

  app.delete(
    '/api/admin/languages/:code',
    {
      onRequest: app.requireRecentAuth,
      schema: {
        tags,
        security,
        summary:
          'Delete a language. 409 LANGUAGE_IN_USE when content uses it, unless ?force=true, which removes its translations everywhere (and untags media) in one transaction; 409 LANGUAGE_IS_PORTFOLIO_DEFAULT or LANGUAGE_HELD_BY_ROLE (roles limited to it) even with force',
        params: LanguageParams,
        querystring: DeleteQuery,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errors },
      },
    },
    async (request, reply) => {
      await service.delete(by(request), request.params.code, request.query.force === true);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/admin/translations/missing',
    {
      schema: {
        tags,
        security,
        summary:
          'For each portfolio (a page by id) and each of its children, the translatable fields with no text in ?lang=',
        querystring: MissingQuery,
        response: { 200: MissingReport, ...errors },
      },
    },
    async (request) => service.missing(request.query.lang, request.query),
  );
};

/** `GET /api/public/languages`: the language switcher, cacheable like the public read. */
export const publicLanguageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app.deps;
  const policy = {
    maxAge: config.PUBLIC_CACHE_MAX_AGE,
    staleWhileRevalidate: config.PUBLIC_CACHE_STALE_WHILE_REVALIDATE,
  };
  app.get(
    '/api/public/languages',
    {
      schema: {
        tags: ['public'],
        summary: 'The enabled site languages, the default first',
        response: { 200: PublicLanguageList, 304: NotModified },
      },
    },
    async (request, reply) =>
      sendCacheable(request, reply, reply.serialize({ items: await app.languages.enabledLanguages() }), { policy }),
  );
};
