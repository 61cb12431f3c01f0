/**
 * Licence allow-list over the installed production dependency tree.
 *
 * Why production only: dev tools never ship in the image, so their licences do not bind what we
 * distribute. Why read node_modules rather than the lockfile: the lockfile records what *should* be
 * installed, node_modules what *is* (a manual install or a postinstall can differ).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from './exec.js';
import type { CheckResult } from './types.js';

export interface LicenseException {
  /** The licence the package declares, so the exception lapses when it changes. */
  license?: string;
  /** Why it is acceptable (reviewed by whom, which use). */
  reason: string;
}

export interface LicensePolicy {
  /** SPDX identifiers (or exact `A WITH B` expressions) allowed anywhere in the tree. */
  allowed: string[];
  /** Per-package exceptions, keyed by `name` or `name@version`. */
  exceptions: Record<string, LicenseException>;
}

export async function loadLicensePolicy(file: string): Promise<LicensePolicy> {
  const raw = JSON.parse(await readFile(file, 'utf8')) as Partial<LicensePolicy>;
  if (!Array.isArray(raw.allowed)) throw new Error(`${file}: "allowed" must be an array of SPDX identifiers`);
  return { allowed: raw.allowed, exceptions: raw.exceptions ?? {} };
}

// ---- SPDX expressions --------------------------------------------------------------------------

type Node = { id: string } | { op: 'AND' | 'OR'; left: Node; right: Node };

/** Parses an SPDX licence expression: ids, `WITH`, `AND`, `OR` and parentheses (AND binds tighter). */
export function parseSpdx(expression: string): Node {
  const tokens = expression.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const isOp = (t: string | undefined, op: string) => t !== undefined && t.toUpperCase() === op;

  function atom(): Node {
    const t = tokens[i++];
    if (t === undefined) throw new Error('unexpected end of expression');
    if (t === '(') {
      const inner = or();
      if (tokens[i++] !== ')') throw new Error('missing )');
      return inner;
    }
    if (t === ')' || isOp(t, 'AND') || isOp(t, 'OR') || isOp(t, 'WITH')) throw new Error(`unexpected "${t}"`);
    if (isOp(peek(), 'WITH')) {
      i++;
      const exc = tokens[i++];
      if (exc === undefined) throw new Error('WITH needs an exception id');
      return { id: `${t} WITH ${exc}` };
    }
    return { id: t };
  }
  function and(): Node {
    let left = atom();
    while (isOp(peek(), 'AND')) {
      i++;
      left = { op: 'AND', left, right: atom() };
    }
    return left;
  }
  function or(): Node {
    let left = and();
    while (isOp(peek(), 'OR')) {
      i++;
      left = { op: 'OR', left, right: and() };
    }
    return left;
  }
  const node = or();
  if (i !== tokens.length) throw new Error(`unexpected "${tokens[i] ?? ''}"`);
  return node;
}

/**
 * Whether an expression can be satisfied using only allowed licences: `A OR B` needs one of them
 * (we may choose), `A AND B` needs both (we must comply with each).
 */
export function licenseAllowed(expression: string, allowed: ReadonlySet<string>): boolean {
  let node: Node;
  try {
    node = parseSpdx(expression.trim());
  } catch {
    return false; // "SEE LICENSE IN ...", free text: a human must look, so it needs an exception.
  }
  const ok = (n: Node): boolean => {
    if ('id' in n)
      return (
        allowed.has(n.id) || allowed.has(n.id.replace(/\+$/, '')) || allowed.has(n.id.replace(/-or-later$/, '-only'))
      );
    return n.op === 'AND' ? ok(n.left) && ok(n.right) : ok(n.left) || ok(n.right);
  };
  return ok(node);
}

/** The licence a package.json declares, including the legacy object and array forms. */
export function declaredLicense(pkg: Record<string, unknown>): string | undefined {
  const lic = pkg['license'];
  if (typeof lic === 'string' && lic.trim() !== '') return lic.trim();
  if (lic && typeof lic === 'object' && typeof (lic as { type?: unknown }).type === 'string') {
    return (lic as { type: string }).type;
  }
  const list = pkg['licenses'];
  if (Array.isArray(list)) {
    const types = list
      .map((l: unknown) => (typeof l === 'string' ? l : (l as { type?: unknown } | null)?.type))
      .filter((t): t is string => typeof t === 'string');
    if (types.length > 0) return types.length === 1 ? types[0] : `(${types.join(' OR ')})`;
  }
  return undefined;
}

// ---- the installed production tree --------------------------------------------------------------

export interface InstalledPackage {
  name: string;
  version: string;
  dir: string;
}

interface LsNode {
  version?: string;
  path?: string;
  missing?: boolean;
  dependencies?: Record<string, LsNode>;
}

/**
 * Production packages as npm sees them (`npm ls --omit=dev --all --json --long`), each with its
 * folder. Optional dependencies for other platforms are listed by npm but not installed; they are
 * skipped because nothing of theirs ships.
 */
export async function productionPackages(root: string): Promise<InstalledPackage[]> {
  const res = await run('npm', ['ls', '--omit=dev', '--all', '--json', '--long'], { cwd: root, timeoutMs: 120_000 });
  let tree: LsNode;
  try {
    tree = JSON.parse(res.stdout) as LsNode;
  } catch {
    throw new Error(
      `npm ls gave no JSON (${res.error ?? `exit ${String(res.code)}`}): ${res.stderr.split('\n')[0] ?? ''}`,
    );
  }
  const out = new Map<string, InstalledPackage>();
  const walk = (node: LsNode) => {
    for (const [name, dep] of Object.entries(node.dependencies ?? {})) {
      if (dep.missing || !dep.path || !dep.version) continue;
      if (out.has(dep.path)) continue;
      out.set(dep.path, { name, version: dep.version, dir: dep.path });
      walk(dep);
    }
  };
  walk(tree);
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

export async function checkLicenses(options: { root: string; policy: LicensePolicy }): Promise<CheckResult> {
  const result: CheckResult = { name: 'licenses', findings: [], notes: [] };
  const allowed = new Set(options.policy.allowed);
  const used = new Set<string>();
  let packages: InstalledPackage[];
  try {
    packages = await productionPackages(options.root);
  } catch (err) {
    result.findings.push(`licenses: cannot list production dependencies: ${(err as Error).message}`);
    return result;
  }
  for (const p of packages) {
    let pkg: Record<string, unknown>;
    try {
      pkg = JSON.parse(await readFile(path.join(p.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      result.findings.push(`licenses: ${p.name}@${p.version} has no readable package.json at ${p.dir}`);
      continue;
    }
    const license = declaredLicense(pkg);
    const exceptionKey = [`${p.name}@${p.version}`, p.name].find((k) => Object.hasOwn(options.policy.exceptions, k));
    const exception = exceptionKey ? options.policy.exceptions[exceptionKey] : undefined;
    if (license !== undefined && licenseAllowed(license, allowed)) continue;
    if (exception && exceptionKey) {
      used.add(exceptionKey);
      if (exception.license === undefined || exception.license === license) continue;
      result.findings.push(
        `licenses: ${p.name}@${p.version} now declares "${license ?? '(none)'}", the exception in security/licenses.json was for "${exception.license}"`,
      );
      continue;
    }
    result.findings.push(
      license === undefined
        ? `licenses: ${p.name}@${p.version} declares no licence (add an exception in security/licenses.json after review)`
        : `licenses: ${p.name}@${p.version} is "${license}", not on the allow-list in security/licenses.json`,
    );
  }
  const stale = Object.keys(options.policy.exceptions).filter((k) => !used.has(k));
  if (stale.length > 0) result.notes.push(`licenses: exceptions no longer needed: ${stale.join(', ')}`);
  result.notes.push(
    `licenses: ${packages.length} production packages checked against ${allowed.size} allowed licences`,
  );
  return result;
}
