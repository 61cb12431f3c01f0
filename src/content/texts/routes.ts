/**
 * HTTP of site texts. Public: `GET /api/public/texts`, cacheable (strong ETag, 304, public
 * Cache-Control, compression, Vary: Accept-Language when the header chose the language). Admin:
 * reading needs `content:read_any`, writing `content:write_any` (site texts are site-wide content
 * edited by editors and admins, as languages are).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Problem } from '../../http/common-schemas.js';
import { sendCacheable } from '../../http/http-cache.js';
import { guardSiteAdmin } from '../languages/site-admin.js';
import { acceptedLanguages } from '../translations.js';
import {
  ExportQuery,
  ImportBody,
  ImportQuery,
  ImportResult,
  PublicTexts,
  PublicTextsQuery,
  SiteText,
  SiteTextPage,
  TextListQuery,
  TextParams,
  TextPut,
} from './schema.js';

const security = [{ bearerAuth: [] }];
const tags = ['texts'];
const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };

export const adminTextRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.siteTexts;
  const by = guardSiteAdmin(app);

  app.get(
    '/api/admin/texts',
    {
      schema: {
        tags,
        security,
        summary: 'Site texts with every language, by key (?prefix= filters)',
        querystring: TextListQuery,
        response: { 200: SiteTextPage, ...errors },
      },
    },
    async (request) => service.list(request.query),
  );

  app.get(
    '/api/admin/texts/export',
    {
      schema: {
        tags,
        security,
        summary: "One language's own texts (no fallback) as i18next JSON: keys nested at the dots",
        querystring: ExportQuery,
        response: { 200: Type.Object({}, { additionalProperties: true, description: 'i18next JSON' }), ...errors },
      },
    },
    async (request, reply) => {
      const { lang, texts } = await service.export(request.query.lang);
      return reply.header('content-disposition', `attachment; filename="${lang}.json"`).send(texts);
    },
  );

  app.put(
    '/api/admin/texts/import',
    {
      schema: {
        tags,
        security,
        summary:
          "Import i18next JSON for one enabled language: merge (default) adds and changes texts; ?mode=replace also removes that language's texts missing from the file",
        querystring: ImportQuery,
        body: ImportBody,
        response: { 200: ImportResult, ...errors, 413: Problem },
      },
    },
    async (request) => service.import(by(request), request.query.lang, request.body, request.query.mode ?? 'merge'),
  );

  app.put(
    '/api/admin/texts/:key',
    {
      schema: {
        tags,
        security,
        summary: "Set a key's texts (replaces them: languages not given lose their text for this key)",
        params: TextParams,
        body: TextPut,
        response: { 200: SiteText, ...errors },
      },
    },
    async (request) => service.put(by(request), request.params.key, request.body.translations),
  );

  app.delete(
    '/api/admin/texts/:key',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a key in every language',
        params: TextParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errors },
      },
    },
    async (request, reply) => {
      await service.delete(by(request), request.params.key);
      return reply.status(204).send(null);
    },
  );
};

export const publicTextRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app.deps;
  const policy = {
    maxAge: config.PUBLIC_CACHE_MAX_AGE,
    staleWhileRevalidate: config.PUBLIC_CACHE_STALE_WHILE_REVALIDATE,
  };
  app.get(
    '/api/public/texts',
    {
      schema: {
        tags: ['public'],
        summary:
          'The site texts in ?lang= (else Accept-Language, else the default), each key falling back along the language chain',
        querystring: PublicTextsQuery,
        response: { 200: PublicTexts, 304: Type.Null({ description: 'Not modified' }), 400: Problem },
      },
    },
    async (request, reply) => {
      const lang = request.query.lang;
      const accepted = lang ? [] : acceptedLanguages(request.headers['accept-language']);
      const texts = await app.siteTexts.publicTexts(lang, accepted);
      return sendCacheable(request, reply, reply.serialize(texts), { policy, vary: lang ? [] : ['Accept-Language'] });
    },
  );
};
