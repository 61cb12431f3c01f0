import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import fp from 'fastify-plugin';
import { httpErrors } from './errors.js';
import { lazyValidator } from './lazy-schemas.js';

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

/** Compiled on a route's first request (src/http/lazy-schemas.ts). */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv;
  return lazyValidator(() => ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>);
};

/**
 * Control characters (docs/ARCHITECTURE.md, "Validation"). One rule for every route, applied to
 * every string of the parsed body (values and keys, at any depth), every path parameter and every
 * query-string value, before schema validation and before any handler, hook or SQL sees them:
 *
 * - refused everywhere: NUL (PostgreSQL cannot store U+0000 in text or jsonb: a NUL used to end in
 *   a 500), the other C0 controls U+0001–U+001F, DEL U+007F, the C1 controls U+0080–U+009F
 *   (terminal escapes such as CSI U+009B), and ill-formed UTF-16 (a lone surrogate, which the
 *   database driver would silently turn into U+FFFD);
 * - allowed in body strings only: TAB, LF and CR, so multiline text (descriptions, messages)
 *   keeps working; a URL has no multiline text, so path and query values refuse them too.
 *
 * Format characters (zero-width space, bidi controls, U+2028/U+2029) are legitimate in
 * multilingual text and stay allowed here; fields that must be one plain line say so in their
 * own schema pattern.
 */
const BODY_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const URL_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f]/;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export type TextPart = 'body' | 'params' | 'querystring';

/** True when `value` holds a character the rule above refuses in that part of the request. */
export function hasForbiddenCharacter(value: string, part: TextPart): boolean {
  return (part === 'body' ? BODY_FORBIDDEN : URL_FORBIDDEN).test(value) || LONE_SURROGATE.test(value);
}

/**
 * The JSON-pointer-style path (`body/translations/es/title`) of the first string, or object key,
 * that breaks the rule; undefined when there is none. Iterative, so a deeply nested body cannot
 * overflow the stack.
 */
export function findForbiddenCharacter(value: unknown, part: TextPart): string | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path: part }];
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; path: string };
    const v = item.value;
    if (typeof v === 'string') {
      if (hasForbiddenCharacter(v, part)) return item.path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: `${item.path}/${i}` });
    } else if (v !== null && typeof v === 'object') {
      for (const [key, child] of Object.entries(v)) {
        const path = `${item.path}/${escapePointer(key)}`;
        if (hasForbiddenCharacter(key, part)) return path;
        stack.push({ value: child, path });
      }
    }
  }
  return undefined;
}

function escapePointer(key: string): string {
  // The path is shown to the client: the offending characters themselves are not echoed.
  const shown = key.replace(/~/g, '~0').replace(/\//g, '~1');
  // Each refused character is shown as its \\uXXXX escape (encodeURIComponent would throw on a
  // lone surrogate).
  return shown
    .slice(0, 40)
    .replace(
      /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
}

/**
 * Applies the rule to every request as a root preValidation hook (registered in app.ts before any
 * route): a refused character is a 400 VALIDATION_FAILED naming where it was.
 */
export const controlCharacterGuard = fp(
  async (app: FastifyInstance) => {
    app.addHook('preValidation', async (request) => {
      const parts: [TextPart, unknown][] = [
        ['params', request.params],
        ['querystring', request.query],
        ['body', request.body],
      ];
      for (const [part, value] of parts) {
        const path = findForbiddenCharacter(value, part);
        if (path !== undefined) {
          const message =
            part === 'body'
              ? 'must not contain control characters other than tab, line feed and carriage return'
              : 'must not contain control characters';
          throw httpErrors.validation(`${path}: ${message}`, [{ path, message }]);
        }
      }
    });
  },
  { name: 'control-character-guard' },
);
