/**
 * HTTP of categories and category types (docs/CONTENT.md). Every route needs a signed-in actor:
 * reading needs a content read permission (every built-in role), changing needs
 * `content:write_any` (editors and admins; categories are site-wide, like languages), except that
 * a translator with `content:write_any` limited to languages may PATCH a category's
 * `translations` in those languages.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParams, Problem } from '../../http/common-schemas.js';
import { actorOf } from '../../http/request-identity.js';
import { holdsForLanguagesOnly, requirePermission } from '../../users/policy.js';
import {
  Category,
  CategoryCreate,
  CategoryDeleteQuery,
  CategoryList,
  CategoryPatch,
  CategoryQuery,
  CategoryType,
  CategoryTypeCreate,
  CategoryTypeList,
} from './schema.js';

const security = [{ bearerAuth: [] }];
const tags = ['categories'];
const readErrors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };
const writeErrors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 415: Problem };

export const categoryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.categories;
  app.addHook('onRequest', app.authenticate);
  // Before validation: a caller who may not write learns nothing about the bodies. A translator
  // (content:write_any limited to languages) may reach PATCH, where the service lets through a
  // change of its languages' translations and nothing else (authorizeContent with the body).
  app.addHook('onRequest', async (request) => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    const actor = actorOf(request);
    if (request.method === 'PATCH' && holdsForLanguagesOnly(actor, 'content:write_any')) return;
    requirePermission(actor, 'content:write_any');
  });

  app.get(
    '/api/category-types',
    { schema: { tags, security, summary: 'Every category type', response: { 200: CategoryTypeList, ...readErrors } } },
    async (request) => ({ items: await service.listTypes(actorOf(request)) }),
  );

  app.post(
    '/api/category-types',
    {
      schema: {
        tags,
        security,
        summary: 'Add a category type (content:write_any)',
        body: CategoryTypeCreate,
        response: { 201: CategoryType, ...writeErrors },
      },
    },
    async (request, reply) => reply.status(201).send(await service.createType(actorOf(request), request.body)),
  );

  app.get(
    '/api/categories',
    {
      schema: {
        tags,
        security,
        summary: 'Every category, or those of one type (?type=)',
        querystring: CategoryQuery,
        response: { 200: CategoryList, ...readErrors },
      },
    },
    async (request) => ({ items: await service.list(actorOf(request), request.query.type) }),
  );

  app.post(
    '/api/categories',
    {
      schema: {
        tags,
        security,
        summary: 'Add a category to a type (content:write_any)',
        body: CategoryCreate,
        response: { 201: Category, ...writeErrors },
      },
    },
    async (request, reply) => reply.status(201).send(await service.create(actorOf(request), request.body)),
  );

  app.get(
    '/api/categories/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Get a category',
        params: IdParams,
        response: { 200: Category, ...readErrors },
      },
    },
    async (request) => service.get(actorOf(request), request.params.id),
  );

  app.patch(
    '/api/categories/:id',
    {
      schema: {
        tags,
        security,
        summary:
          'Change a category: code, type, name, translations (replaced as a whole); every portfolio using it changes. A translator (content:write_any limited to languages) may change only translations.<its languages> (403 otherwise)',
        params: IdParams,
        body: CategoryPatch,
        response: { 200: Category, ...writeErrors },
      },
    },
    async (request) => service.update(actorOf(request), request.params.id, request.body),
  );

  app.delete(
    '/api/categories/:id',
    {
      schema: {
        tags,
        security,
        summary:
          'Delete a category. 409 CATEGORY_IN_USE while rows carry it, unless ?force=true (removes it from them)',
        params: IdParams,
        querystring: CategoryDeleteQuery,
        response: { 204: Type.Null({ description: 'Deleted' }), ...writeErrors },
      },
    },
    async (request, reply) => {
      await service.delete(actorOf(request), request.params.id, request.query.force === true);
      return reply.status(204).send(null);
    },
  );
};
