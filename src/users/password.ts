import { hash, verify, type Algorithm } from '@node-rs/argon2';
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { AppError } from '../http/errors.js';
import { lazyModule } from '../platform/lazy.js';

/**
 * argon2id with the OWASP Password Storage Cheat Sheet's first recommended setting:
 * m=19 MiB, t=2, p=1. Parameters are stored in the hash, so raising them later still verifies
 * old hashes (and `needsRehash` tells when to upgrade one on login).
 */
export const ARGON2_OPTIONS = {
  // Algorithm.Argon2id; the enum is a const enum that isolated modules cannot import.
  algorithm: 2 as Algorithm,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export type Argon2Options = { readonly [K in keyof typeof ARGON2_OPTIONS]: number };

/** The parameters new hashes use: ARGON2_OPTIONS, unless a test run replaced them (below). */
let active: Argon2Options = ARGON2_OPTIONS;

/**
 * Test runs only: new hashes use `options` instead of ARGON2_OPTIONS until the returned function
 * restores them. A test suite computes thousands of hashes; at 19 MiB each they are a large part
 * of its time. test/setup.ts installs cheap ones; test files that measure or assert the real cost
 * restore ARGON2_OPTIONS. Nothing in src/ calls it (src/users/password.test.ts checks), and it
 * throws unless the process is a vitest worker with NODE_ENV=test, so a production process
 * (`npm start`, NODE_ENV=production) can never hash with weaker parameters.
 */
export function useTestArgon2Options(options: Argon2Options): () => void {
  if (process.env['VITEST'] !== 'true' || process.env['NODE_ENV'] !== 'test') {
    throw new Error('useTestArgon2Options is for test runs only (vitest, NODE_ENV=test)');
  }
  const previous = active;
  active = options;
  return () => {
    active = previous;
  };
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, active);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

export function needsRehash(passwordHash: string): boolean {
  return !passwordHash.startsWith(
    `$argon2id$v=19$m=${active.memoryCost},t=${active.timeCost},p=${active.parallelism}$`,
  );
}

/**
 * A hash of a random password, computed once. Logins for unknown emails verify against it so
 * they cost the same time as a wrong password: a fast path would reveal which emails exist.
 */
let dummyHash: { options: Argon2Options; hash: Promise<string> } | undefined;
export function dummyPasswordHash(): Promise<string> {
  // Made again when the parameters changed: the dummy costs what a real user's hash costs.
  if (dummyHash?.options !== active) {
    dummyHash = { options: active, hash: hashPassword(crypto.randomUUID() + crypto.randomUUID()) };
  }
  return dummyHash.hash;
}

/**
 * The dictionaries are ~50 MB in memory, so they load on the first password check, not at
 * import: CLI commands and processes that never set a password do not pay for them.
 */
const estimator = lazyModule(async (): Promise<ZxcvbnFactory> => {
  const [{ ZxcvbnFactory }, common, en] = await Promise.all([
    import('@zxcvbn-ts/core'),
    import('@zxcvbn-ts/language-common'),
    import('@zxcvbn-ts/language-en'),
  ]);
  return new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
  });
});

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/**
 * NIST SP 800-63B: at least a minimum length, a generous maximum, no composition rules, and a
 * check against passwords known to be common or easily guessed (zxcvbn's dictionaries include
 * the common-password lists). Words from the user's own email and name count against it.
 */
export async function checkPasswordPolicy(
  password: string,
  minScore: number,
  userInputs: string[] = [],
): Promise<void> {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    throw weak(`The password must have at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (length > PASSWORD_MAX_LENGTH) {
    throw weak(`The password must have at most ${PASSWORD_MAX_LENGTH} characters`);
  }
  const inputs = userInputs.flatMap((s) => s.toLowerCase().split(/[^a-z0-9]+/)).filter((s) => s.length >= 3);
  const result = await (await estimator()).checkAsync(password, inputs);
  const isCommon = result.sequence.some(
    (m) => m.pattern === 'dictionary' && m.dictionaryName === 'passwords' && m.token.length >= length - 2,
  );
  if (isCommon) throw weak('This password is in a list of commonly used passwords');
  if (result.score < minScore) {
    const hint = result.feedback.warning ?? result.feedback.suggestions[0] ?? 'Use a longer passphrase';
    throw weak(`The password is too easy to guess: ${hint}`);
  }
}

function weak(detail: string): AppError {
  return new AppError(400, 'WEAK_PASSWORD', 'Password rejected', detail);
}
