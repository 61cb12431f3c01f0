import type { Migration } from '../migrate.js';
import { m0001 } from './0001_foundation.js';
import { m0002 } from './0002_audit.js';

/** Every migration, in order. A new one is a new file here; applied ones are never edited. */
export const migrations: readonly Migration[] = [m0001, m0002];
