/**
 * Anonymous reads of published, public portfolios. `/default` is a static route, which Fastify's
 * router always prefers over `/:slug`; the slug "default" is reserved so nothing is shadowed.
 *
 * Cacheable by browsers and CDNs (src/http/http-cache.ts): strong ETag of the exact bytes,
 * If-None-Match -> 304, `Cache-Control: public` (PUBLIC_CACHE_*), compression. `?lang=` picks
 * the language; without it Accept-Language does, so the answer says `Vary: Accept-Language`.
 * The prepared bytes come from this node's cache while they are current (cache.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Problem } from '../../http/common-schemas.js';
import { sendCacheable } from '../../http/http-cache.js';
import {
  PublicPortfolio,
  PublicQuery,
  PublicSlugParams,
  type PublicPortfolio as PublicPortfolioType,
} from '../schema.js';
import { acceptedLanguages } from '../translations.js';
import type { PublicTarget } from './repository.js';

const NotModified = Type.Null({ description: 'Not modified: the If-None-Match tag is current' });

export const publicContentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.content.public;
  const tags = ['public'];
  const { config, clock } = app.deps;
  const settings = app.settings;
  const policy = {
    // The site setting (PUBLIC_CACHE_MAX_AGE when set), read per answer: src/settings/.
    get maxAge() {
      return settings.publicCacheMaxAge();
    },
    staleWhileRevalidate: config.PUBLIC_CACHE_STALE_WHILE_REVALIDATE,
  };
  const responses = { 200: PublicPortfolio, 304: NotModified, 400: Problem, 404: Problem };

  /** Answers the target in the language asked for (?lang=, else Accept-Language), cacheably. */
  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    target: PublicTarget,
    lang?: string,
    category?: string,
  ) => {
    const accepted = lang ? [] : acceptedLanguages(request.headers['accept-language']);
    const entry = await service.prepared(
      target,
      lang,
      accepted,
      (payload: PublicPortfolioType) => reply.serialize(payload),
      { category },
    );
    return sendCacheable(request, reply, entry.body, {
      policy,
      vary: lang ? [] : ['Accept-Language'],
      // No cache may keep the answer past its first signed link's expiry.
      validFor: (entry.linksExpireAt - clock.now().getTime()) / 1000,
    });
  };

  app.get(
    '/api/public/portfolios/default',
    {
      schema: {
        tags,
        summary: 'The site default portfolio, texts resolved for ?lang= (else Accept-Language)',
        querystring: PublicQuery,
        response: responses,
      },
    },
    async (request, reply) => answer(request, reply, { default: true }, request.query.lang, request.query.category),
  );

  app.get(
    '/api/public/portfolios/:slug',
    {
      schema: {
        tags,
        summary: 'A published public portfolio by slug, texts resolved for ?lang= (else Accept-Language)',
        params: PublicSlugParams,
        querystring: PublicQuery,
        response: responses,
      },
    },
    async (request, reply) =>
      answer(request, reply, { slug: request.params.slug }, request.query.lang, request.query.category),
  );
};
