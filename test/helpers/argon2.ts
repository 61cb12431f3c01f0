/**
 * argon2 parameters in test runs. test/setup.ts makes every test file hash passwords with
 * TEST_ARGON2_OPTIONS (the smallest argon2id accepts: 8 KiB, one pass), so the thousands of
 * accounts the suite creates cost microseconds each instead of tens of milliseconds. What a
 * password hash must be in production is asserted by src/users/password.test.ts with the real
 * ARGON2_OPTIONS; a test that compares the cost of two paths (an unknown email must spend the
 * same argon2 work as a known one) calls `useRealArgon2()` first, so the cost it compares is real.
 */
import { onTestFinished } from 'vitest';
import { ARGON2_OPTIONS, useTestArgon2Options, type Argon2Options } from '../../src/users/password.js';

export const TEST_ARGON2_OPTIONS: Argon2Options = {
  algorithm: ARGON2_OPTIONS.algorithm,
  memoryCost: 8,
  timeCost: 1,
  parallelism: 1,
};

/** For test/setup.ts: every file starts with the cheap parameters. */
export function useCheapArgon2(): void {
  useTestArgon2Options(TEST_ARGON2_OPTIONS);
}

/**
 * The production parameters (ARGON2_OPTIONS) from now on: for the whole file when called at its
 * top level or in beforeAll, for one test (restored when it ends) when called inside it.
 */
export function useRealArgon2(): void {
  const restore = useTestArgon2Options(ARGON2_OPTIONS);
  try {
    onTestFinished(restore);
  } catch {
    // Outside a test (top level, beforeAll): for the rest of the file.
  }
}
