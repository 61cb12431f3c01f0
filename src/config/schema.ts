/**
 * The one schema for every environment variable the server reads.
 *
 * Each entry carries its documentation, its default and its parser, so the same table drives
 * boot-time validation, `.env.example` and the README's configuration table
 * (`npm run docs:env` regenerates both; a test fails when they drift).
 *
 * The variables are declared per feature in `src/config/sections/` and composed here in
 * documentation order: `.env.example` and the README list them as they stand below. A new
 * variable goes into its feature's section (a new feature gets a section, listed here too).
 * Parsers shared by several sections are in `src/config/parsers.ts`.
 */

import type { SchemaSection } from './parsers.js';
import { accountSchema } from './sections/accounts.js';
import { auditSchema } from './sections/audit.js';
import { authSchema } from './sections/auth.js';
import { backupSchema } from './sections/backup.js';
import { contentSchema } from './sections/content.js';
import { siemSchema } from './sections/siem.js';
import { httpSchema } from './sections/http.js';
import { mailSchema } from './sections/mail.js';
import { mfaSchema } from './sections/mfa.js';
import { monitoringSchema } from './sections/monitoring.js';
import { privacySchema } from './sections/privacy.js';
import { privacyExportSchema } from './sections/privacy-export.js';
import { shieldSchema } from './sections/shield.js';
import { s3Schema } from './sections/s3.js';
import { securityTxtSchema } from './sections/security-txt.js';
import { serverSchema } from './sections/server.js';
import { storageSchema } from './sections/storage.js';
import { uploadSchema } from './sections/uploads.js';

export * from './parsers.js';
export type { TrustProxy } from './sections/http.js';
export type { BindingPart } from './sections/auth.js';

/** The sections in documentation order (each variable belongs to exactly one; a test checks it). */
export const sections: readonly SchemaSection[] = [
  serverSchema,
  storageSchema,
  httpSchema,
  shieldSchema,
  authSchema,
  auditSchema,
  backupSchema,
  s3Schema,
  mailSchema,
  accountSchema,
  contentSchema,
  siemSchema,
  uploadSchema,
  mfaSchema,
  privacyExportSchema,
  privacySchema,
  securityTxtSchema,
  monitoringSchema,
];

export const schema = {
  ...serverSchema,
  ...storageSchema,
  ...httpSchema,
  ...shieldSchema,
  ...authSchema,
  ...auditSchema,
  ...backupSchema,
  ...s3Schema,
  ...mailSchema,
  ...accountSchema,
  ...contentSchema,
  ...siemSchema,
  ...uploadSchema,
  ...mfaSchema,
  ...privacyExportSchema,
  ...privacySchema,
  ...securityTxtSchema,
  ...monitoringSchema,
} satisfies SchemaSection;

export type Schema = typeof schema;
export type ConfigKey = keyof Schema;
export type Config = {
  [K in ConfigKey]: Schema[K] extends { default: string }
    ? ReturnType<Schema[K]['parse']>
    : ReturnType<Schema[K]['parse']> | undefined;
};
