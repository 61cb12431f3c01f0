/**
 * The vitest test names a file declares, read from its source (never by running it), so that
 * security/asvs.json can name the tests that prove a requirement and fail when one disappears.
 *
 * What counts as a test: a call of `it`/`test` (and the `describe`/`suite` blocks around it) whose
 * names are imported from 'vitest', with the modifiers vitest has (`.only`, `.concurrent`,
 * `.sequential`, `.fails`, `.skip`, `.todo`, `.each(table)`, `.skipIf(c)`, `.runIf(c)`). Blocks nest
 * lexically: a `describe` inside a helper function still wraps the `it` calls inside it.
 *
 * A name is a list of parts, each literal text or a wildcard:
 * - a string literal is literal text;
 * - a template literal is its text with a wildcard for each `${...}`;
 * - `'a' + x` is literal text plus a wildcard;
 * - in `.each` titles, printf placeholders (`%s %d %i %f %j %o %O %#`) and `$name`/`$a.b` are wildcards;
 * - any other expression (a variable, a call) is one wildcard for the whole name.
 * A wildcard matches one or more characters that do not contain " > ".
 */
import { readFile } from 'node:fs/promises';
import ts from 'typescript';

export type NamePart = { text: string } | { wild: true };

export interface DeclaredTest {
  /** The enclosing describe names, outermost first, then the test's own name. */
  path: NamePart[][];
  /** `.skip` or `.todo` (on the test or an enclosing describe): declared, but proves nothing. */
  skipped: boolean;
  /** `.skipIf`/`.runIf`: runs only where its condition holds (e.g. a browser is installed). */
  conditional: boolean;
  line: number;
}

const TEST_FNS = new Set(['it', 'test']);
const SUITE_FNS = new Set(['describe', 'suite']);
const PLAIN_MODIFIERS = new Set(['only', 'concurrent', 'sequential', 'fails', 'shuffle']);
const SKIP_MODIFIERS = new Set(['skip', 'todo']);
const CONDITIONAL_MODIFIERS = new Set(['skipIf', 'runIf']);

interface Callee {
  kind: 'test' | 'suite';
  each: boolean;
  skipped: boolean;
  conditional: boolean;
}

/** The local names bound to vitest's it/test/describe/suite (`import { it as check } from 'vitest'` included). */
function vitestBindings(source: ts.SourceFile): Map<string, 'test' | 'suite'> {
  const bound = new Map<string, 'test' | 'suite'>();
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    if (statement.moduleSpecifier.text !== 'vitest') continue;
    const named = statement.importClause?.namedBindings;
    if (!named || !ts.isNamedImports(named)) continue;
    for (const element of named.elements) {
      const imported = (element.propertyName ?? element.name).text;
      if (TEST_FNS.has(imported)) bound.set(element.name.text, 'test');
      if (SUITE_FNS.has(imported)) bound.set(element.name.text, 'suite');
    }
  }
  return bound;
}

/** Reads `it.concurrent.skip`, `describe.each(t)`, `it.skipIf(c)`: what is called, or undefined. */
function calleeOf(expr: ts.Expression, bound: Map<string, 'test' | 'suite'>): Callee | undefined {
  if (ts.isIdentifier(expr)) {
    const kind = bound.get(expr.text);
    return kind ? { kind, each: false, skipped: false, conditional: false } : undefined;
  }
  if (ts.isPropertyAccessExpression(expr)) {
    const inner = calleeOf(expr.expression, bound);
    const name = expr.name.text;
    if (!inner) return undefined;
    if (PLAIN_MODIFIERS.has(name)) return inner;
    if (SKIP_MODIFIERS.has(name)) return { ...inner, skipped: true };
    return undefined;
  }
  if (ts.isCallExpression(expr) && ts.isPropertyAccessExpression(expr.expression)) {
    // `it.each(table)` and `it.skipIf(cond)` return the function that takes the name.
    const inner = calleeOf(expr.expression.expression, bound);
    const name = expr.expression.name.text;
    if (!inner) return undefined;
    if (name === 'each' || name === 'for') return { ...inner, each: true };
    if (CONDITIONAL_MODIFIERS.has(name)) return { ...inner, conditional: true };
  }
  return undefined;
}

/** `.each` titles: printf placeholders and `$field` interpolations become wildcards. */
function splitEachTitle(text: string): NamePart[] {
  const parts: NamePart[] = [];
  const re = /%[sdifjoO#]|\$[A-Za-z_][\w.]*/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) parts.push({ text: text.slice(last, m.index) });
    parts.push({ wild: true });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts.map((p) => ('text' in p ? { text: p.text.replace(/%%/g, '%') } : p));
}

function nameParts(expr: ts.Expression, each: boolean): NamePart[] {
  const literal = (text: string): NamePart[] => (each ? splitEachTitle(text) : [{ text }]);
  if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) return literal(expr.text);
  if (ts.isTemplateExpression(expr)) {
    const parts: NamePart[] = [...literal(expr.head.text)];
    for (const span of expr.templateSpans) parts.push({ wild: true }, ...literal(span.literal.text));
    return parts;
  }
  if (ts.isBinaryExpression(expr) && expr.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    return [...nameParts(expr.left, each), ...nameParts(expr.right, each)];
  }
  if (ts.isParenthesizedExpression(expr)) return nameParts(expr.expression, each);
  return [{ wild: true }];
}

/** Adjacent literal parts joined, empty ones dropped, runs of wildcards collapsed. */
function normalise(parts: NamePart[]): NamePart[] {
  const out: NamePart[] = [];
  for (const part of parts) {
    const prev = out[out.length - 1];
    if ('text' in part) {
      if (part.text === '') continue;
      if (prev && 'text' in prev) prev.text += part.text;
      else out.push({ text: part.text });
    } else if (!prev || 'text' in prev) out.push(part);
  }
  return out;
}

/** Every test declared in a TypeScript test source, in source order. */
export function declaredTests(fileName: string, sourceText: string): DeclaredTest[] {
  const source = ts.createSourceFile(fileName, sourceText, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const bound = vitestBindings(source);
  const tests: DeclaredTest[] = [];
  const stack: { name: NamePart[]; skipped: boolean; conditional: boolean }[] = [];

  function visit(node: ts.Node): void {
    if (ts.isCallExpression(node)) {
      const callee = calleeOf(node.expression, bound);
      const title = node.arguments[0];
      if (callee && title) {
        const name = normalise(nameParts(title, callee.each));
        const skipped = callee.skipped || stack.some((s) => s.skipped);
        const conditional = callee.conditional || stack.some((s) => s.conditional);
        if (callee.kind === 'test') {
          tests.push({
            path: [...stack.map((s) => s.name), name],
            skipped,
            conditional,
            line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
          });
          return; // an `it` inside an `it` is not a test vitest collects
        }
        stack.push({ name, skipped, conditional });
        for (const arg of node.arguments.slice(1)) visit(arg);
        stack.pop();
        return;
      }
    }
    ts.forEachChild(node, visit);
  }
  visit(source);
  return tests;
}

export async function declaredTestsOf(file: string): Promise<DeclaredTest[]> {
  return declaredTests(file, await readFile(file, 'utf8'));
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function segmentSource(parts: NamePart[]): string {
  return parts.map((p) => ('text' in p ? escapeRe(p.text) : '(?:(?! > ).)+')).join('');
}

/** The name as written in a mapping: describe names and the test name joined by " > ", `*` for a wildcard. */
export function displayName(test: DeclaredTest): string {
  return test.path.map((parts) => parts.map((p) => ('text' in p ? p.text : '*')).join('')).join(' > ');
}

/**
 * Whether a mapping's `test` names this declared test. The reference is the test's full name
 * (`describe > describe > it`) or a tail of it that keeps the test's own name (`describe > it`, or
 * `it` alone): leading describe names may be left out, inner ones may not be skipped. Wildcards
 * match the concrete text (`tamper suite on pglite` matches `tamper suite on %s`) and also the
 * placeholder as written (`%s`, `*`).
 */
export function namesTest(reference: string, test: DeclaredTest): boolean {
  for (let from = 0; from < test.path.length; from++) {
    const source = test.path.slice(from).map(segmentSource).join(' > ');
    // Built from escaped literal text and a fixed wildcard pattern.
    if (new RegExp(`^${source}$`, 's').test(reference)) return true;
  }
  return false;
}
