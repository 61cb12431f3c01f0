import { existsSync } from 'node:fs';
import dotenv from 'dotenv';

/** Reads `.env` when present; variables already in the environment win. */
export function loadEnvFile(file = '.env'): void {
  if (existsSync(file)) dotenv.config({ path: file, quiet: true });
}
