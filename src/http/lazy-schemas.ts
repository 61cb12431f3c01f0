/**
 * Route schemas compiled on first use (issue 16, footprint). Fastify compiles every route's
 * validators (Ajv) and response serializers (fast-json-stringify, for the GET route and again for
 * its HEAD twin) when the server starts: generated code and its closures for ~170 routes, most of
 * which an idle server, or a portfolio site's whole life, never calls. Each compiler here returns
 * a stand-in that compiles the real function on its first call and keeps it; the function, its
 * answers and its errors are exactly the eager ones.
 *
 * A schema that cannot compile (a typo under Ajv's strict mode) would then fail on its first
 * request rather than at start: `compileAllSchemas` compiles every pending one, and
 * src/http/lazy-schemas.test.ts calls it on the whole app, so such a schema fails the tests.
 */
import { createRequire } from 'node:module';
import type { FastifySchemaCompiler, FastifyServerOptions } from 'fastify';

type Validator = ReturnType<FastifySchemaCompiler<unknown>>;
type SchemaControllerOptions = NonNullable<FastifyServerOptions['schemaController']>;
type SerializerFactory = NonNullable<NonNullable<SchemaControllerOptions['compilersFactory']>['buildSerializer']>;
type Serializer = (data: unknown) => string;

/**
 * Every stand-in not compiled yet, weakly (an app that is closed and dropped takes its own with
 * it), so a test can compile them all (compileAllSchemas).
 */
const pending = new Set<WeakRef<() => void>>();
const dropped = new FinalizationRegistry<WeakRef<() => void>>((ref) => pending.delete(ref));

/** Registers a schema's compile step until it has run; returns the step that compiles once. */
function once<T>(compile: () => T): () => T {
  let real: T | undefined;
  let compiled = false;
  const ensure = (): T => {
    if (!compiled) {
      // Tried once, it is no longer pending: a schema that throws is reported by that throw.
      pending.delete(ref);
      dropped.unregister(ref);
      real = compile();
      compiled = true;
    }
    return real as T;
  };
  const ref = new WeakRef(ensure);
  pending.add(ref);
  dropped.register(ensure, ref, ref);
  return ensure;
}

/** Compiles every schema not compiled yet (throws the first schema's error); how many it compiled. For tests. */
export function compileAllSchemas(): number {
  let n = 0;
  for (const ref of [...pending]) {
    const ensure = ref.deref();
    if (ensure) {
      ensure();
      n++;
    }
  }
  return n;
}

/** How many schemas wait for their first use. */
export function pendingSchemas(): number {
  return [...pending].filter((ref) => ref.deref() !== undefined).length;
}

/**
 * A validator compiled on its first call. Fastify reads `.errors` of the function it was given
 * after a `false`, so the stand-in copies them from the real validator after each call.
 */
export function lazyValidator(compile: () => Validator): Validator {
  const ensure = once(compile);
  const standIn = ((data: unknown) => {
    const validate = ensure();
    const result = validate(data);
    (standIn as { errors?: unknown }).errors = (validate as { errors?: unknown }).errors;
    return result;
  }) as Validator;
  return standIn;
}

/** A serializer compiled on its first call. */
export function lazySerializer(compile: () => Serializer): Serializer {
  const ensure = once(compile);
  return (data: unknown) => ensure()(data);
}

/**
 * Fastify's own serializer factory (fast-json-stringify), resolved from fastify's package so it
 * is the very version fastify would use, with each route's serializer compiled on first use.
 */
export function lazySerializerFactory(): SerializerFactory {
  const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
  const { SerializerSelector } = fromFastify('@fastify/fast-json-stringify-compiler') as {
    SerializerSelector: () => SerializerFactory;
  };
  const eager = SerializerSelector();
  return (externalSchemas, options) => {
    const compiler = eager(externalSchemas, options);
    return (route) => lazySerializer(() => compiler(route) as Serializer);
  };
}
