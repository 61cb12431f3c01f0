import type { Migration } from '../migrate.js';
import { m0001 } from './0001_foundation.js';
import { m0002 } from './0002_audit.js';
import { m0003 } from './0003_tokens.js';
import { m0004 } from './0004_uploads.js';
import { m0005 } from './0005_accounts.js';
import { m0006 } from './0006_mfa.js';
import { m0007 } from './0007_account_identity.js';

/** Every migration, in order. A new one is a new file here; applied ones are never edited. */
export const migrations: readonly Migration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007];
