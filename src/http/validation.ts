import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Two validators: bodies are validated as sent (no type coercion, unknown fields rejected, never
 * silently removed), while params and query strings, which arrive as text, are coerced to the
 * declared types. Fastify's default would strip unknown body fields instead of refusing them,
 * hiding client mistakes such as a misspelled `visiblity`.
 */
function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({
    allErrors: false,
    strict: true,
    strictRequired: false,
    useDefaults: true,
    removeAdditional: false,
    ...options,
  });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv;
}

const bodyAjv = makeAjv({ coerceTypes: false });
const textAjv = makeAjv({ coerceTypes: 'array' });

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv;
  return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
};
