/**
 * HTTP only: schemas, status codes, and a call into the service. Protected routes run
 * `authenticate` first (onRequest, before validation: an anonymous caller learns nothing about
 * the shape of what it may not touch). Response schemas list every field, so the serializer drops
 * anything a row might carry beyond them.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { IdParams, PageQuery, Problem } from '../http/common-schemas.js';
import { sendCacheable } from '../http/http-cache.js';
import { actorOf } from '../http/request-identity.js';
import type { ChildResource } from './resource.js';
import {
  CHILD_RESOURCES,
  Portfolio,
  PortfolioCreate,
  PortfolioPage,
  PortfolioPatch,
  PublicPortfolio,
  PublicQuery,
  PublicSlugParams,
} from './schema.js';
import type { PageRequest } from './service.js';
import { acceptedLanguages } from './translations.js';

const security = [{ bearerAuth: [] }];
const tags = ['content'];
const readErrors = { 400: Problem, 401: Problem, 404: Problem };
const writeErrors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 415: Problem };
const NoContent = Type.Null({ description: 'Deleted' });
const NotModified = Type.Null({ description: 'Not modified: the If-None-Match tag is current' });
type PublicPortfolioType = Static<typeof PublicPortfolio>;

/** Portfolios and the five child kinds, all behind authentication. */
export const contentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.authenticate);
  const { portfolios } = app.content;

  app.get(
    '/api/portfolios',
    {
      schema: {
        tags,
        security,
        summary: "List the portfolios you may read (your own; everyone's with content:read_any)",
        querystring: PageQuery,
        response: { 200: PortfolioPage, ...readErrors },
      },
    },
    async (request) => portfolios.list(actorOf(request), request.query),
  );

  app.post(
    '/api/portfolios',
    {
      schema: {
        tags,
        security,
        summary: 'Create a portfolio',
        body: PortfolioCreate,
        response: { 201: Portfolio, ...writeErrors },
      },
    },
    async (request, reply) => reply.status(201).send(await portfolios.create(actorOf(request), request.body)),
  );

  app.get(
    '/api/portfolios/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Get a portfolio',
        params: IdParams,
        response: { 200: Portfolio, ...readErrors },
      },
    },
    async (request) => portfolios.get(actorOf(request), request.params.id),
  );

  app.patch(
    '/api/portfolios/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Change a portfolio (isDefault needs content:write_any; translations are replaced as a whole)',
        params: IdParams,
        body: PortfolioPatch,
        response: { 200: Portfolio, ...writeErrors },
      },
    },
    async (request) => portfolios.update(actorOf(request), request.params.id, request.body),
  );

  app.delete(
    '/api/portfolios/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a portfolio and everything in it',
        params: IdParams,
        response: { 204: NoContent, ...writeErrors },
      },
    },
    async (request, reply) => {
      await portfolios.delete(actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  for (const resource of CHILD_RESOURCES) registerChildRoutes(app, resource);
};

/**
 * The five routes of one child kind, from its definition. The schemas are built at runtime, so the
 * type provider cannot infer bodies here; the validator has already enforced them.
 */
function registerChildRoutes(app: FastifyInstance, resource: ChildResource): void {
  const service = app.content.child(resource);
  const { schemas, name, path } = resource;
  const plural = path;

  app.get(
    `/api/portfolios/:id/${path}`,
    {
      schema: {
        tags,
        security,
        summary: `List a portfolio's ${plural} (by position)`,
        params: IdParams,
        querystring: schemas.listQuery,
        response: { 200: schemas.page, ...readErrors },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return service.list(actorOf(request), id, request.query as PageRequest);
    },
  );

  app.post(
    `/api/portfolios/:id/${path}`,
    {
      schema: {
        tags,
        security,
        summary: `Add a ${name.toLowerCase()} to a portfolio`,
        params: IdParams,
        body: schemas.create,
        response: { 201: schemas.item, ...writeErrors },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const created = await service.create(actorOf(request), id, request.body as Record<string, unknown>);
      return reply.status(201).send(created);
    },
  );

  app.get(
    `/api/${path}/:id`,
    {
      schema: {
        tags,
        security,
        summary: `Get a ${name.toLowerCase()}`,
        params: IdParams,
        response: { 200: schemas.item, ...readErrors },
      },
    },
    async (request) => service.get(actorOf(request), (request.params as { id: string }).id),
  );

  app.patch(
    `/api/${path}/:id`,
    {
      schema: {
        tags,
        security,
        summary: `Change a ${name.toLowerCase()} (portfolioId moves it; translations are replaced as a whole)`,
        params: IdParams,
        body: schemas.patch,
        response: { 200: schemas.item, ...writeErrors },
      },
    },
    async (request) =>
      service.update(actorOf(request), (request.params as { id: string }).id, request.body as Record<string, unknown>),
  );

  app.delete(
    `/api/${path}/:id`,
    {
      schema: {
        tags,
        security,
        summary: `Delete a ${name.toLowerCase()}`,
        params: IdParams,
        response: { 204: NoContent, ...writeErrors },
      },
    },
    async (request, reply) => {
      await service.delete(actorOf(request), (request.params as { id: string }).id);
      return reply.status(204).send(null);
    },
  );
}

/**
 * Anonymous reads of published, public portfolios. `/default` is a static route, which Fastify's
 * router always prefers over `/:slug`; the slug "default" is reserved so nothing is shadowed.
 *
 * Cacheable by browsers and CDNs (src/http/http-cache.ts): strong ETag of the exact bytes,
 * If-None-Match -> 304, `Cache-Control: public` (PUBLIC_CACHE_*), compression. `?lang=` picks
 * the language; without it Accept-Language does, so the answer says `Vary: Accept-Language`.
 */
export const publicContentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.content.public;
  const ptags = ['public'];
  const { config } = app.deps;
  const policy = {
    maxAge: config.PUBLIC_CACHE_MAX_AGE,
    staleWhileRevalidate: config.PUBLIC_CACHE_STALE_WHILE_REVALIDATE,
  };
  const responses = { 200: PublicPortfolio, 304: NotModified, 400: Problem, 404: Problem };

  /** Reads in the language asked for (?lang=, else Accept-Language) and answers cacheably. */
  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    lang: string | undefined,
    read: (lang: string | undefined, accepted: readonly string[]) => Promise<PublicPortfolioType>,
  ) => {
    const accepted = lang ? [] : acceptedLanguages(request.headers['accept-language']);
    const portfolio = await read(lang, accepted);
    return sendCacheable(request, reply, reply.serialize(portfolio), {
      policy,
      vary: lang ? [] : ['Accept-Language'],
      validFor: linksValidFor(portfolio),
    });
  };
  /** Seconds until the first signed media link of the payload expires: no cache may keep it longer. */
  const linksValidFor = (portfolio: PublicPortfolioType): number => {
    const now = app.deps.clock.now().getTime();
    const expiries = (portfolio.media ?? []).map((m) => (Date.parse(m.expiresAt) - now) / 1000);
    return Math.min(Infinity, ...expiries.filter((s) => !Number.isNaN(s)));
  };

  app.get(
    '/api/public/portfolios/default',
    {
      schema: {
        tags: ptags,
        summary: 'The site default portfolio, texts resolved for ?lang= (else Accept-Language)',
        querystring: PublicQuery,
        response: responses,
      },
    },
    async (request, reply) =>
      answer(request, reply, request.query.lang, (lang, accepted) => service.getDefault(lang, accepted)),
  );

  app.get(
    '/api/public/portfolios/:slug',
    {
      schema: {
        tags: ptags,
        summary: 'A published public portfolio by slug, texts resolved for ?lang= (else Accept-Language)',
        params: PublicSlugParams,
        querystring: PublicQuery,
        response: responses,
      },
    },
    async (request, reply) =>
      answer(request, reply, request.query.lang, (lang, accepted) =>
        service.getBySlug(request.params.slug, lang, accepted),
      ),
  );
};
