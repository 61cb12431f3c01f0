/**
 * Test support for privacy exports: a strict zip reader (central directory, local headers, data
 * descriptors where present, and CRC all checked) and the export flow through the API.
 */
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { TestUser } from '../../helpers/factories.js';

/** Every entry of a zip, by name; throws on anything malformed. */
export function readZip(zip: Buffer): Map<string, Buffer> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0 || eocd + 22 > zip.length) throw new Error('no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  let p = zip.readUInt32LE(eocd + 16);
  if (p + cdSize !== eocd) throw new Error('central directory size mismatch');
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central header');
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const csize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nlen = zip.readUInt16LE(p + 28);
    const xlen = zip.readUInt16LE(p + 30);
    const clen = zip.readUInt16LE(p + 32);
    const offset = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nlen).toString('utf8');
    p += 46 + nlen + xlen + clen;
    if (zip.readUInt32LE(offset) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const lnlen = zip.readUInt16LE(offset + 26);
    const lxlen = zip.readUInt16LE(offset + 28);
    if (zip.subarray(offset + 30, offset + 30 + lnlen).toString('utf8') !== name) throw new Error('name mismatch');
    const start = offset + 30 + lnlen + lxlen;
    const raw = zip.subarray(start, start + csize);
    const data = method === 8 ? zlib.inflateRawSync(raw) : raw;
    if (data.length !== size) throw new Error(`size mismatch for ${name}`);
    if (zlib.crc32(data) >>> 0 !== crc) throw new Error(`crc mismatch for ${name}`);
    // A data descriptor follows the data when general purpose bit 3 says so (streamed entries).
    if (zip.readUInt16LE(offset + 6) & 0x0008) {
      const dd = start + csize;
      if (zip.readUInt32LE(dd) !== 0x08074b50 || zip.readUInt32LE(dd + 4) !== crc)
        throw new Error('bad data descriptor');
    } else if (zip.readUInt32LE(offset + 14) !== crc) {
      throw new Error(`local header crc mismatch for ${name}`);
    }
    if (out.has(name)) throw new Error(`duplicate entry ${name}`);
    out.set(name, data);
  }
  return out;
}

export interface ExportStatusJson {
  id: string;
  status: string;
  url: string | null;
  expiresAt: string | null;
}

export async function requestExport(app: FastifyInstance, user: TestUser): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/account/export', headers: user.auth });
  expect(res.statusCode, res.body).toBe(202);
  return res.json<{ id: string }>().id;
}

export async function exportStatus(app: FastifyInstance, user: TestUser, id: string): Promise<ExportStatusJson> {
  const res = await app.inject({ method: 'GET', url: `/api/account/exports/${id}`, headers: user.auth });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** The path and query of a link, to inject against the test app. */
export function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** Requests, builds (one job pass) and downloads an export; returns the archive's entries. */
export async function exportOf(app: FastifyInstance, user: TestUser): Promise<Map<string, Buffer>> {
  const id = await requestExport(app, user);
  await app.privacyExport.tick();
  const status = await exportStatus(app, user, id);
  expect(status.status).toBe('ready');
  const res = await app.inject({ method: 'GET', url: pathOf(status.url as string), headers: user.auth });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toBe('application/zip');
  return readZip(res.rawPayload);
}

/** A seeded PRNG (mulberry32): a failing fixture can be replayed from the seed in the test name. */
export function seeded(seed: number): { int(min: number, max: number): number; word(): string } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    word: () => `w${Math.floor(next() * 1e9).toString(36)}${randomBytes(2).toString('hex')}`,
  };
}
