/**
 * Uploads: scanning, storage, size limits and signed URLs (src/security/uploads/,
 * src/platform/clamd/, docs/UPLOADS.md).
 */

import { int, keyPrefix, list, minLength, nonEmpty, oneOf, url, type SchemaSection } from '../parsers.js';

export const uploadSchema = {
  CLAMAV_URL: {
    group: 'Uploads',
    doc: 'clamd that scans every upload: tcp://host:3310 or unix:///run/clamav/clamd.ctl. Unset: uploads wait in quarantine (status scan_unavailable) until a scanner is configured, unless UPLOAD_SCAN=off.',
    example: 'tcp://127.0.0.1:3310',
    parse: url(['tcp', 'unix']),
  },
  CLAMAV_TIMEOUT: {
    group: 'Uploads',
    doc: 'Seconds one clamd scan may take; a timeout is an error verdict (the file stays quarantined as scan_failed and is retried), never clean.',
    default: '30',
    parse: int(1, 600),
  },
  CLAMAV_MAX_STREAM: {
    group: 'Uploads',
    doc: "Largest stream in bytes sent to clamd; keep it at or below clamd's StreamMaxLength. Larger files are not scannable and stay quarantined.",
    default: '26214400',
    parse: int(1024, 4 * 1024 * 1024 * 1024),
  },
  UPLOAD_SCAN: {
    group: 'Uploads',
    doc: 'on: every upload is scanned by clamd before it is served. off: no scanning, for development only; refused in production.',
    default: 'on',
    parse: oneOf(['on', 'off'] as const),
  },
  UPLOAD_DIR: {
    group: 'Uploads',
    doc: 'Folder for stored media (sanitised files and quarantined originals) when they are not in S3. Unset: DATA_DIR/uploads.',
    example: '/var/lib/portfolio/uploads',
    parse: nonEmpty,
  },
  UPLOAD_STORAGE: {
    group: 'Uploads',
    doc: 'Where media are stored: dir (UPLOAD_DIR), s3 (AWS_S3_BUCKET under UPLOAD_S3_PREFIX, served through S3 presigned URLs), or auto (s3 when AWS_S3_BUCKET is set).',
    default: 'auto',
    parse: oneOf(['auto', 'dir', 's3'] as const),
  },
  UPLOAD_S3_PREFIX: {
    group: 'Uploads',
    doc: 'Key prefix of media in AWS_S3_BUCKET.',
    default: 'media/',
    parse: keyPrefix('media/', { allowEmpty: false }),
  },
  UPLOAD_MAX_IMAGE_BYTES: {
    group: 'Uploads',
    doc: 'Largest image upload in bytes (jpeg, png, webp, gif, avif); larger ones get 413.',
    default: '10485760',
    parse: int(1024, 1024 * 1024 * 1024),
  },
  UPLOAD_MAX_DOCUMENT_BYTES: {
    group: 'Uploads',
    doc: 'Largest document (PDF) upload in bytes; larger ones get 413. MAX_REQUEST_SIZE caps every request too, so raise it as well for documents above it.',
    default: '20971520',
    parse: int(1024, 1024 * 1024 * 1024),
  },
  UPLOAD_MAX_PIXELS: {
    group: 'Uploads',
    doc: 'Largest image in pixels (width x height x frames) that is decoded; larger ones (decompression bombs) are refused from their header.',
    default: '40000000',
    parse: int(1, 1_000_000_000),
  },
  UPLOAD_MAX_FRAMES: {
    group: 'Uploads',
    doc: 'Most frames an animated image (GIF, WebP) may have.',
    default: '100',
    parse: int(1, 10_000),
  },
  UPLOAD_URL_TTL: {
    group: 'Uploads',
    doc: 'Seconds a signed media URL stays valid (at most 3600).',
    default: '300',
    parse: int(10, 3600),
  },
  UPLOAD_SIGNING_KEY: {
    group: 'Uploads',
    doc: 'HMAC-SHA256 key for signed media URLs, at least 32 characters; every node needs the same value. Unset: derived from JWT_SECRET (or a key generated once in DATA_DIR/secrets when that is unset too).',
    example: 'change-me-to-64-random-characters',
    parse: minLength(32),
    secret: true,
  },
  UPLOAD_SIGNING_KEY_ID: {
    group: 'Uploads',
    doc: 'Key id put into URLs signed with UPLOAD_SIGNING_KEY, so keys can rotate: give the new key a new id and move the old one to UPLOAD_SIGNING_OLD_KEYS.',
    default: 'k1',
    parse: (raw: string) => {
      const v = raw.trim();
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(v)) throw new Error('must be 1-32 letters, digits, _ or -');
      return v;
    },
  },
  UPLOAD_SIGNING_OLD_KEYS: {
    group: 'Uploads',
    doc: 'Retired signing keys still accepted until their URLs expire: comma-separated id:key pairs.',
    example: 'k0:previous-key-of-at-least-32-characters',
    parse: (raw: string) =>
      list(raw).map((item) => {
        const i = item.indexOf(':');
        const id = item.slice(0, i);
        const key = item.slice(i + 1);
        if (i < 1 || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length < 32)
          throw new Error('each entry must be id:key with a key of at least 32 characters');
        return { id, key };
      }),
    secret: true,
  },
  UPLOAD_RETRY_INTERVAL: {
    group: 'Uploads',
    doc: 'Seconds between background runs that retry failed scans and rescan media after a signature update; 0 stops the worker.',
    default: '60',
    parse: int(0, 86_400),
  },
} satisfies SchemaSection;
