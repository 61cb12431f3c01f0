/**
 * Route schemas compiled on first use (src/http/lazy-schemas.ts): a started app has compiled none
 * of its validators and serializers, a request compiles only its own route's, the answers are
 * the eager ones, and compileAllSchemas compiles every one of the whole app, so a schema that
 * cannot compile still fails the tests rather than a visitor's first request.
 */
import { Ajv } from 'ajv';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createPortfolio, createUser } from '../../test/helpers/factories.js';
import {
  compileAllSchemas,
  lazySerializer,
  lazySerializerFactory,
  lazyValidator,
  pendingSchemas,
} from './lazy-schemas.js';
import { validatorCompiler } from './validation.js';

describe('the stand-ins', () => {
  it('a validator compiles once, on its first call, and answers with the eager one’s result and errors', () => {
    const schema = {
      type: 'object',
      properties: { n: { type: 'integer', minimum: 1 } },
      required: ['n'],
      additionalProperties: false,
    };
    const eager = new Ajv().compile(schema);
    const compile = vi.fn(() => new Ajv().compile(schema));
    const lazy = lazyValidator(compile) as ((data: unknown) => boolean) & { errors?: unknown };
    expect(compile).not.toHaveBeenCalled();
    for (const data of [{ n: 2 }, { n: 0 }, {}, { n: 1, extra: true }, 'text', null]) {
      expect(lazy(data)).toBe(eager(data));
      expect(lazy.errors).toEqual(eager.errors);
    }
    expect(compile).toHaveBeenCalledTimes(1);
  });

  it('a serializer compiles once, on its first call', () => {
    const compile = vi.fn(() => (data: unknown) => JSON.stringify(data));
    const lazy = lazySerializer(compile);
    expect(compile).not.toHaveBeenCalled();
    expect(lazy({ a: 1 })).toBe('{"a":1}');
    expect(lazy({ a: 2 })).toBe('{"a":2}');
    expect(compile).toHaveBeenCalledTimes(1);
  });

  it('a schema Ajv refuses passes the start but fails compileAllSchemas', async () => {
    const app = Fastify();
    app.setValidatorCompiler(validatorCompiler);
    // strict mode: an unknown keyword is a schema error.
    app.post('/broken', { schema: { body: { type: 'object', colour: 'red' } } }, async () => ({ ok: true }));
    await app.ready();
    expect(() => compileAllSchemas()).toThrow(/colour/);
    await app.close();
  });

  it('the response serializer is fastify’s own: the same bytes, fields outside the schema dropped', async () => {
    const answers: string[] = [];
    for (const lazy of [false, true]) {
      const app = Fastify(
        lazy ? { schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory() } } } : {},
      );
      app.get(
        '/r',
        {
          schema: {
            response: { 200: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'string' } } } },
          },
        },
        async () => ({ a: '7', b: 'x', secret: 'never sent' }),
      );
      answers.push((await app.inject({ method: 'GET', url: '/r' })).body);
      await app.close();
    }
    expect(answers[1]).toBe(answers[0]);
    expect(answers[1]).toBe('{"a":7,"b":"x"}');
  });
});

describe('the app', () => {
  let t: TestApp;
  beforeAll(async () => {
    compileAllSchemas(); // whatever earlier tests of this worker left
    t = await buildTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('starts with its route schemas uncompiled; a request compiles its own route’s only', async () => {
    const atStart = pendingSchemas();
    // Validators and serializers of well over a hundred routes (and their HEAD twins).
    expect(atStart).toBeGreaterThan(200);
    const owner = await createUser(t.app); // login: its body validator and its answer's serializer
    const portfolio = await createPortfolio(t.app, owner, { title: 'Lazy' });
    const before = pendingSchemas();
    const res = await t.app.inject({ method: 'GET', url: `/api/portfolios/${portfolio.id}`, headers: owner.auth });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ title: string }>().title).toBe('Lazy');
    const compiled = before - pendingSchemas();
    expect(compiled).toBeGreaterThan(0);
    expect(compiled).toBeLessThan(5);
  });

  it('validation answers as before: 400 VALIDATION_FAILED for a bad body and a bad param', async () => {
    const owner = await createUser(t.app);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/portfolios',
      headers: owner.auth,
      payload: { title: 'x', slug: 'ok-slug', visiblity: 'public' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ code: string }>().code).toBe('VALIDATION_FAILED');
    const param = await t.app.inject({ method: 'GET', url: '/api/portfolios/not-a-uuid', headers: owner.auth });
    expect(param.statusCode).toBe(400);
    expect(param.json<{ code: string }>().code).toBe('VALIDATION_FAILED');
  });

  it('every schema of the app compiles', () => {
    expect(compileAllSchemas()).toBeGreaterThan(200);
    expect(pendingSchemas()).toBe(0);
  });
});
