/**
 * MAX_REQUEST_SIZE bounds every body, including the total of a multipart upload that a future
 * upload route streams from `request.raw` itself (as @fastify/multipart does), where neither
 * Fastify's bodyLimit nor a content-type parser ever sees the bytes. The answer is 413
 * problem+json, and the rest of an oversized body is never read.
 */
import http from 'node:http';
import type net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemPlugin } from '../../http/problem-plugin.js';
import { installBodyLimit } from './body-limit.js';
import { installLingeringClose } from './lingering-close.js';

const MAX = 4096;
let app: FastifyInstance;
let port: number;
let tooLarge = 0;
let received = 0;

beforeAll(async () => {
  app = Fastify({ logger: false });
  // As the shield does (connection-limits.ts): the 413 closes the connection by lingering.
  installLingeringClose(app.server, { maxMs: 2_000, maxBytes: 1024 * 1024 });
  await app.register(problemPlugin);
  await app.register(
    fp(async (instance: FastifyInstance) => installBodyLimit(instance, { max: MAX, onTooLarge: () => tooLarge++ })),
  );
  // What @fastify/multipart does: accept the type without reading, then stream request.raw.
  app.addContentTypeParser('multipart/form-data', (_request, _payload, done) => done(null));
  app.post('/upload', async (request) => {
    for await (const chunk of request.raw) received += (chunk as Buffer).length;
    return { received };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await app.close();
});

function upload(
  parts: number,
  partSize: number,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/upload',
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=x', 'transfer-encoding': 'chunked' },
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    let sent = 0;
    const next = () => {
      if (sent === parts || req.destroyed) return void req.end();
      sent++;
      req.write(Buffer.alloc(partSize, 'a'), () => setImmediate(next));
    };
    next();
  });
}

describe('multipart bodies read from request.raw', () => {
  it('under the limit: passes through untouched', async () => {
    received = 0;
    const res = await upload(3, 1000);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ received: 3000 });
  });

  it('over the limit in total: 413 problem+json, connection closed', async () => {
    received = 0;
    const res = await upload(20, 1000);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(res.headers['connection']).toBe('close');
    expect(received).toBeLessThanOrEqual(MAX);
    expect(tooLarge).toBeGreaterThan(0);
  });
});
