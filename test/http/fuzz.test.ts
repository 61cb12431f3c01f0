/**
 * Fuzz-style sweep: every route in the OpenAPI document gets malformed bodies, ids, query
 * strings and headers, as anonymous and as an admin (who gets past authorization and reaches
 * validation and the handlers). No answer may be a 5xx, and every error is problem+json.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../helpers/factories.js';

let t: TestApp;
let admin: TestUser;
let realIds: string[] = [];

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.app, { role: 'admin' });
  const p = await createPortfolio(t.app, admin, { visibility: 'public', published: true });
  realIds = [p.id, admin.id];
});
afterAll(async () => {
  await t.close();
});

const BODIES: (string | undefined)[] = [
  undefined,
  '',
  '{',
  'null',
  '[]',
  '"string"',
  '12',
  '{"a":',
  '{"title": null}',
  JSON.stringify({ title: 'x'.repeat(20_000) }),
  JSON.stringify({ title: { $gt: '' }, slug: ['a'], id: 1 }),
  JSON.stringify({ constructor: { prototype: { polluted: true } } }),
  JSON.stringify(nest(200)),
  '\u0000\u0001\uffff',
  JSON.stringify({ email: 'a@b.c', password: '\u0000'.repeat(10), name: '\r\nX-Injected: 1', limit: 1e308 }),
];

const ID_VALUES = ['not-a-uuid', '00000000-0000-0000-0000-000000000000', '%00', '..%2F..%2Fetc%2Fpasswd', 'x'.repeat(300), "1' or '1'='1"];

const QUERIES = ['', '?limit=-1', '?limit=abc', '?limit=100000', '?cursor=%%%', '?cursor=' + 'A'.repeat(500), '?lang=../../x', '?cursor=WzFd', '?a[b]=c'];

function nest(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

interface Route {
  method: string;
  path: string;
}

function routes(doc: { paths: Record<string, Record<string, unknown>> }): Route[] {
  const out: Route[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      if (['get', 'post', 'patch', 'put', 'delete'].includes(method)) out.push({ method: method.toUpperCase(), path });
    }
  }
  return out;
}

describe('fuzz every route', () => {
  it('never answers 5xx to malformed input', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const all = routes(doc);
    expect(all.length).toBeGreaterThan(15);
    const failures: string[] = [];
    let requests = 0;
    const send = async (method: string, url: string, body: string | undefined, headers: Record<string, string>) => {
      requests++;
      const res = await t.app.inject({ method: method as 'GET', url, payload: body, headers });
      if (res.statusCode >= 500) failures.push(`${method} ${url} ${body?.slice(0, 40) ?? ''} → ${res.statusCode} ${res.body.slice(0, 200)}`);
      if (res.statusCode >= 400 && res.statusCode !== 404 && !String(res.headers['content-type']).includes('problem+json')) {
        failures.push(`${method} ${url} → ${res.statusCode} without problem+json`);
      }
    };
    for (const route of all) {
      // Never delete the fixtures mid-sweep; DELETE gets only bogus ids.
      const ids = route.method === 'DELETE' ? ID_VALUES : [...ID_VALUES, ...realIds];
      const paths = route.path.includes('{')
        ? ids.map((id) => route.path.replace(/\{[^}]+\}/g, encodeURIComponent(id).replace(/%25/g, '%')))
        : [route.path];
      for (const p of paths) {
        for (const auth of [{}, admin.auth]) {
          for (const q of route.method === 'GET' ? QUERIES : ['']) {
            await send(route.method, p + q, undefined, auth);
          }
          if (route.method === 'POST' || route.method === 'PATCH') {
            for (const body of BODIES) {
              await send(route.method, p, body, { ...auth, 'content-type': 'application/json' });
            }
            await send(route.method, p, 'a=b', { ...auth, 'content-type': 'application/x-www-form-urlencoded' });
            await send(route.method, p, randomBytes(64).toString('binary'), { ...auth, 'content-type': 'application/octet-stream' });
          }
        }
      }
    }
    const weirdHeaders: Record<string, string>[] = [
      { authorization: 'Bearer ' + 'a.'.repeat(1000) },
      { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' },
      { 'content-type': 'application/json; charset=utf-16' },
      { accept: 'application/xml' },
      { 'accept-language': 'x'.repeat(2000) },
    ];
    for (const h of weirdHeaders) await send('GET', '/api/auth/me', undefined, h);
    expect(requests).toBeGreaterThan(500);
    expect(failures).toEqual([]);
  }, 120_000);
});
