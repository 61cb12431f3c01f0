/**
 * Runs in every test file before it. Password hashes use cheap argon2 parameters
 * (test/helpers/argon2.ts); files that compare argon2 costs call useRealArgon2().
 */
import { useCheapArgon2 } from './helpers/argon2.js';

useCheapArgon2();
