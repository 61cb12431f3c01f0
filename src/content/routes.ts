/**
 * HTTP only: schemas, status codes, and a call into the service. Protected routes run
 * `authenticate` first (onRequest, before validation: an anonymous caller learns nothing about
 * the shape of what it may not touch). Response schemas list every field, so the serializer drops
 * anything a row might carry beyond them.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { IdParams, PageQuery, Problem } from '../http/common-schemas.js';
import { actorOf } from '../http/request-identity.js';
import type { ChildResource } from './resource.js';
import { CHILD_RESOURCES, Portfolio, PortfolioCreate, PortfolioPage, PortfolioPatch } from './schema.js';
import type { PageRequest } from './service.js';

const security = [{ bearerAuth: [] }];
const tags = ['content'];
const readErrors = { 400: Problem, 401: Problem, 404: Problem };
const writeErrors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 415: Problem };
const NoContent = Type.Null({ description: 'Deleted' });

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

  app.put(
    `/api/portfolios/:id/${path}/order`,
    {
      schema: {
        tags,
        security,
        summary: `Reorder a portfolio's ${plural}: ids must be exactly its current ${plural}, each once (positions become 0..n-1)`,
        params: IdParams,
        body: Type.Object(
          {
            ids: Type.Array(Type.String({ format: 'uuid' }), {
              maxItems: resource.maxPerPortfolio,
              description: `Every ${name.toLowerCase()} of the portfolio, in the new order`,
            }),
          },
          { additionalProperties: false, title: `${name}Order` },
        ),
        response: { 200: schemas.page, ...writeErrors },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return service.reorder(actorOf(request), id, (request.body as { ids: string[] }).ids);
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
