/**
 * A process outside the test runner (src/users/password.test.ts starts it with the environment
 * under test) tries to make password hashing cheaper, then hashes one password. Prints
 * `{ refused, error, prefix }` as JSON.
 */
import { hashPassword, useTestArgon2Options } from '../../../src/users/password.js';

let refused = false;
let error = '';
try {
  useTestArgon2Options({ algorithm: 2, memoryCost: 8, timeCost: 1, parallelism: 1 });
} catch (err) {
  refused = true;
  error = (err as Error).message;
}
const hash = await hashPassword('Violet-Harbor-Lantern-42');
// `$argon2id$v=19$m=…,t=…,p=…$`: everything before the salt.
const prefix = `${hash.split('$').slice(0, 4).join('$')}$`;
process.stdout.write(`${JSON.stringify({ refused, error, prefix })}\n`);
