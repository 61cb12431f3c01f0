// @ts-check
/**
 * ESLint flat config: typescript-eslint's type-checked rules plus eslint-plugin-security.
 *
 * Why type-checked: the bugs that hurt a security layer most are the quiet ones: a promise nobody
 * awaits (an audit event or a revocation that silently never happens), an `any` that lets unvalidated
 * input reach SQL or a header. Those need type information to be seen.
 *
 * eslint-plugin-security ships every rule as a warning. We make the high-signal ones errors (they
 * point at eval, unsafe regexes, weak randomness, hidden characters; a finding is almost always real)
 * and keep the noisy heuristics as warnings to read, not gate on. `npm run security` fails on any
 * security/* error. See docs/supply-chain.md.
 */
import { createRequire } from 'node:module';
import security from 'eslint-plugin-security';
import tseslint from 'typescript-eslint';

/** Packages the server must not load at run time: `npm ci --omit=dev` leaves them out of production. */
const devDependencies = Object.keys(createRequire(import.meta.url)('./package.json').devDependencies ?? {});

const typedFiles = ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'vitest.config.ts'];

/**
 * What SQL text looks like: the head of a statement with the token that must follow it. Prose
 * ("Select a file", "Delete a portfolio") stops before that token; a query does not. Template
 * literals are read with each `${...}` as an identifier, so `select ${COLUMNS} from t` is SQL too
 * (and `drop schema${plural}` is the word `schema_x_`, not a statement).
 */
const SQL_SHAPES = [
  /\bselect\s+(?:distinct\s|\*|\d|[\w$."]+\s*(?:\(|,|::|\|\||\bas\b|\bfrom\b))/i,
  /\binsert\s+into\s+[\w$."]+\s*(?:\(|\bselect\b|\bvalues\b|\bdefault\b)/i,
  /\bupdate\s[\w$." ]{1,80}\sset\s+[\w"]+\s*=/i,
  /\bdelete\s+from\s[\w$." ]{1,80}\s(?:where|returning|using)\b/i,
  /\bwith\s+(?:recursive\s)?\s*[\w"]+\s+as\s*\(/i,
  /\b(?:create|alter|drop)\s+(?:unique\s)?\s*(?:table|index|schema|database|sequence|view|function|trigger|type|extension)\b/i,
  /\btruncate\s+(?:table|only)\b/i,
];

/** @param {string} text */
const looksLikeSql = (text) => SQL_SHAPES.some((shape) => shape.test(text));

/**
 * sql`...` or db.sql`...`: whatever the text, a tagged query builder.
 * @param {import('estree').TemplateLiteral & { parent?: import('estree').Node }} node
 */
const isSqlTagged = (node) => {
  const parent = node.parent;
  if (parent?.type !== 'TaggedTemplateExpression') return false;
  const tag = parent.tag.type === 'MemberExpression' ? parent.tag.property : parent.tag;
  return tag.type === 'Identifier' && tag.name === 'sql';
};

/** @type {import('eslint').Rule.RuleModule} */
const sqlPlacement = {
  meta: {
    type: 'problem',
    docs: { description: 'SQL text lives only in */repository.ts, src/platform/db/ and the allow-listed dump writer' },
    schema: [],
    messages: {
      misplaced:
        "SQL belongs in the feature's repository.ts (docs/ARCHITECTURE.md: repositories are the only code with SQL).",
    },
  },
  create(context) {
    return {
      Literal(node) {
        if (typeof node.value === 'string' && looksLikeSql(node.value))
          context.report({ node, messageId: 'misplaced' });
      },
      TemplateLiteral(node) {
        const text = node.quasis.map((q) => q.value.cooked ?? q.value.raw).join('_x_');
        if (isSqlTagged(node) || looksLikeSql(text)) context.report({ node, messageId: 'misplaced' });
      },
    };
  },
};

/**
 * Files that handle SQL text without being a feature's queries, each with its reason. Everything
 * else in src/ keeps SQL in a file named repository.ts (or in src/platform/db/).
 */
const sqlAllowlist = [
  // The backup engine's queries live in src/backup/repository.ts; the dump writer builds SQL as
  // its output (a backup file is a SQL script), not to query a feature's data.
  {
    file: 'src/backup/pglite-dump.ts',
    reason: 'the dump writer: turns every row into an INSERT line and every sequence into a setval line',
  },
];

export default tseslint.config(
  {
    name: 'project/ignores',
    ignores: ['node_modules/**', 'dist/**', 'data/**', 'coverage/**', '.vitest-tmp/**', 'web/**/vendor/**'],
  },
  {
    name: 'project/typescript',
    files: typedFiles,
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        project: './tsconfig.check.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // An un-awaited promise is a lost audit event, a revocation that never lands, or an
      // unhandled rejection that kills the process: always an error.
      '@typescript-eslint/no-floating-promises': 'error',
      // Fastify's reply is a thenable, so an option property typed `void` (frameworkErrors, ...)
      // that returns `reply.send()` reads as a misused promise though Fastify ignores the value.
      // Arguments, returns and conditionals stay checked; no-floating-promises covers the rest.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { properties: false } }],
      // Off: Fastify plugins and hooks are async by contract, and adapters implement Promise-returning
      // interfaces (the in-memory KV answers synchronously behind the same interface as Redis). The
      // hazards around promises are caught by no-floating-promises and no-misused-promises instead.
      '@typescript-eslint/require-await': 'off',
      // Warn: an unnecessary assertion is harmless noise, not a safety problem; worth tidying, not
      // worth failing a build over.
      '@typescript-eslint/no-unnecessary-type-assertion': 'warn',
      // `_name` marks a parameter kept for a signature (Fastify hooks, callbacks).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The web console (a Vite + React app with its own tsconfig: DOM types, JSX, bundler
    // resolution): the same type-checked rules as the server's code.
    name: 'project/web-console',
    files: ['web/console/**/*.ts', 'web/console/**/*.tsx'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        project: './web/console/tsconfig.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // What `npm run build` compiles is what production runs: it must never reach into test/ (the
    // build then fails with TS6059, or ships test code) nor load a devDependency, which
    // `npm ci --omit=dev` does not install. Type-only imports vanish at compile time and stay allowed.
    name: 'project/runtime-boundary',
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: devDependencies.map((name) => ({
            name,
            message: `${name} is a devDependency: production installs (npm ci --omit=dev) do not have it.`,
            allowTypeImports: true,
          })),
          patterns: [
            {
              group: devDependencies.map((name) => `${name}/*`),
              message: 'This is a devDependency: production installs (npm ci --omit=dev) do not have it.',
              allowTypeImports: true,
            },
            {
              regex: '^(\\.\\./)+(test|bench|scripts)(/|$)',
              message: 'src/ is what the build ships: move shared code into src/, keep test helpers in test/.',
            },
          ],
        },
      ],
    },
  },
  {
    // docs/ARCHITECTURE.md: handlers speak HTTP, services hold the logic, repositories are the
    // only code with SQL. Tests are free to seed and inspect tables directly.
    name: 'project/sql-placement',
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts', 'src/**/repository.ts', 'src/platform/db/**', ...sqlAllowlist.map((a) => a.file)],
    plugins: { project: { rules: { 'sql-placement': sqlPlacement } } },
    rules: { 'project/sql-placement': 'error' },
  },
  {
    // Tests read response bodies through `res.json()`, which is `any` by design (light-my-request);
    // the assertions themselves check the shape. Floating promises stay an error here too: an
    // un-awaited `expect(...).rejects` passes without checking anything.
    name: 'project/tests',
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    name: 'project/security',
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.cjs'],
    ...security.configs.recommended,
    rules: {
      ...security.configs.recommended.rules,
      // High signal: a hit is nearly always a real problem, so it fails lint and `npm run security`.
      'security/detect-eval-with-expression': 'error',
      'security/detect-new-buffer': 'error',
      'security/detect-buffer-noassert': 'error',
      'security/detect-pseudoRandomBytes': 'error',
      'security/detect-unsafe-regex': 'error',
      'security/detect-bidi-characters': 'error',
      'security/detect-invisible-characters': 'error',
      'security/detect-non-literal-require': 'error',
      'security/detect-disable-mustache-escape': 'error',
      'security/detect-no-csrf-before-method-override': 'error',
      // Off: it flags every `obj[key]`. With strict TypeScript and noUncheckedIndexedAccess the
      // keys are typed; prototype-pollution risk is handled where untrusted JSON is parsed (schemas
      // reject unknown fields) rather than by flagging every index expression.
      'security/detect-object-injection': 'off',
      // Advisory (warn): heuristics with many false positives in a server that legitimately builds
      // file paths under DATA_DIR, runs pg_dump, and compares tokens through constant-time helpers.
      'security/detect-non-literal-fs-filename': 'warn',
      'security/detect-non-literal-regexp': 'warn',
      'security/detect-child-process': 'warn',
      'security/detect-possible-timing-attacks': 'warn',
    },
  },
  {
    // Tests, benchmarks and scripts build paths, regexes and child processes from their own
    // temporary folders and fixtures, never from a request: the heuristics would only add noise
    // and hide the warnings that matter in src/.
    name: 'project/tooling',
    files: ['test/**', 'bench/**', 'scripts/**', '**/*.test.ts'],
    rules: {
      'security/detect-non-literal-fs-filename': 'off',
      'security/detect-non-literal-regexp': 'off',
      'security/detect-child-process': 'off',
    },
  },
);
