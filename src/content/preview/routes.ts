/**
 * HTTP of preview links. The management routes are authenticated (the portfolio's write access;
 * listing, read access); the preview itself is anonymous: the token is the credential. It answers
 * `Cache-Control: no-store` (no browser or CDN keeps it), `X-Robots-Tag: noindex` and
 * `Referrer-Policy: no-referrer` (the token must not leave in a Referer header).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParams, Problem } from '../../http/common-schemas.js';
import { actorOf } from '../../http/request-identity.js';
import { PublicPortfolio, PublicQuery } from '../schema.js';
import { acceptedLanguages } from '../translations.js';
import { PreviewCreate, PreviewCreated, PreviewLinkList, PreviewLinkParams, PreviewTokenParams } from './schema.js';

const security = [{ bearerAuth: [] }];
const tags = ['content'];
const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };

export const previewAdminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.authenticate);
  const service = app.contentPreview;

  app.post(
    '/api/portfolios/:id/preview-links',
    {
      schema: {
        tags,
        security,
        summary: 'Make a preview link that shows the portfolio as if it were published (the URL is shown once)',
        params: IdParams,
        body: PreviewCreate,
        response: { 201: PreviewCreated, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await service.create(
            actorOf(request),
            request.params.id,
            request.body.expiresIn,
            app.audit.contextOf(request),
          ),
        ),
  );

  app.get(
    '/api/portfolios/:id/preview-links',
    {
      schema: {
        tags,
        security,
        summary: "The portfolio's live preview links (never their tokens)",
        params: IdParams,
        response: { 200: PreviewLinkList, ...errors },
      },
    },
    async (request) => service.list(actorOf(request), request.params.id),
  );

  app.delete(
    '/api/portfolios/:id/preview-links/:linkId',
    {
      schema: {
        tags,
        security,
        summary: 'Revoke a preview link: its URL answers 404 from now on',
        params: PreviewLinkParams,
        response: { 204: Type.Null({ description: 'Revoked' }), ...errors },
      },
    },
    async (request, reply) => {
      await service.revoke(actorOf(request), request.params.id, request.params.linkId, app.audit.contextOf(request));
      return reply.status(204).send(null);
    },
  );
};

export const previewPublicRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.contentPreview;
  app.get(
    '/api/public/preview/:token',
    {
      schema: {
        tags: ['public'],
        summary: 'A preview link: the portfolio as the public read would show it if it were published (never cached)',
        params: PreviewTokenParams,
        querystring: PublicQuery,
        response: { 200: PublicPortfolio, 400: Problem, 404: Problem },
      },
    },
    async (request, reply) => {
      void reply
        .header('cache-control', 'no-store')
        .header('x-robots-tag', 'noindex')
        .header('referrer-policy', 'no-referrer');
      const lang = request.query.lang;
      const accepted = lang ? [] : acceptedLanguages(request.headers['accept-language']);
      return service.read(request.params.token, lang, accepted);
    },
  );
};
