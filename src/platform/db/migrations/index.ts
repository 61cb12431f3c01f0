import type { Migration } from '../migrate.js';
import { m0001 } from './0001_foundation.js';
import { m0002 } from './0002_audit.js';
import { m0003 } from './0003_tokens.js';
import { m0004 } from './0004_uploads.js';
import { m0005 } from './0005_accounts.js';
import { m0006 } from './0006_mfa.js';
import { m0007 } from './0007_account_identity.js';
import { m0008 } from './0008_public_read_version.js';
import { m0009 } from './0009_invitations.js';
import { m0011 } from './0011_languages_texts.js';
import { m0010 } from './0010_roles.js';
import { m0012 } from './0012_ordering_schedule_preview.js';
import { m0013 } from './0013_settings.js';
import { m0014 } from './0014_categories_relations.js';
import { m0015 } from './0015_media_everywhere.js';
import { m0016 } from './0016_privacy_export_consent.js';
import { m0017 } from './0017_erasure.js';
import { m0018 } from './0018_monitoring_alerts.js';
import { m0019 } from './0019_siem_cursor.js';
import { m0020 } from './0020_audit_pii.js';
import { m0022 } from './0022_public_snapshots.js';

/** Every migration, in order. A new one is a new file here; applied ones are never edited. */
export const migrations: readonly Migration[] = [
  m0001,
  m0002,
  m0003,
  m0004,
  m0005,
  m0006,
  m0007,
  m0008,
  m0009,
  m0010,
  m0011,
  m0012,
  m0013,
  m0014,
  m0015,
  m0016,
  m0017,
  m0018,
  m0019,
  m0020,
  m0022,
];
