/**
 * Tracing (issue 20, item 6): with OTEL_EXPORTER_OTLP_ENDPOINT, a local OTLP/HTTP receiver gets a
 * server span per request (route template, request id) and a client span per query of that
 * request, its child; an incoming traceparent is continued. Without it, no @opentelemetry module
 * is ever loaded (checked in a child process that watches module loading from its first line).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../../test/helpers/app.js';
import { createPortfolio, createUser } from '../../../../test/helpers/factories.js';
import { cleanEnv, collect, ROOT } from '../../../../test/helpers/spawn.js';
import {
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../../../../test/support/monitoring/otlp-receiver.js';
import { collectionOf, operationOf } from './tracer.js';

const SERVER = 2;
const CLIENT = 3;

describe('with OTEL_EXPORTER_OTLP_ENDPOINT: request and database spans reach the collector', () => {
  let receiver: OtlpReceiver;
  let t: TestApp;
  let portfolioId: string;
  let requestId: string;
  const remoteTrace = randomUUID().replace(/-/g, '');
  const remoteParent = randomUUID().replace(/-/g, '').slice(0, 16);
  let continuedRequestId: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'portfolio-test' });
    const owner = await createUser(t.app, { role: 'editor' });
    portfolioId = (await createPortfolio(t.app, owner, { title: 'Traced work' })).id;
    const res = await t.app.inject({ method: 'GET', url: `/api/portfolios/${portfolioId}`, headers: owner.auth });
    expect(res.statusCode).toBe(200);
    requestId = String(res.headers['x-request-id']);
    const continued = await t.app.inject({
      method: 'GET',
      url: `/api/portfolios/${portfolioId}`,
      headers: { ...owner.auth, traceparent: `00-${remoteTrace}-${remoteParent}-01` },
    });
    expect(continued.statusCode).toBe(200);
    continuedRequestId = String(continued.headers['x-request-id']);
    // Closing the app flushes the batch span processor.
    await t.close();
  });
  afterAll(async () => {
    await receiver.close();
  });

  const serverSpan = (id: string): ReceivedSpan => {
    const found = receiver.spans.filter((s) => s.kind === SERVER && s.attributes['request.id'] === id);
    expect(found).toHaveLength(1);
    return found[0] as ReceivedSpan;
  };

  it('a SERVER span named by the route template, with method, route, status and the request id', () => {
    const span = serverSpan(requestId);
    expect(span.name).toBe('GET /api/portfolios/:id');
    expect(span.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/api/portfolios/:id',
      'http.response.status_code': 200,
      'request.id': requestId,
    });
    expect(span.service).toBe('portfolio-test');
    // Never the raw URL: the id is not in any span's name or attribute.
    for (const s of receiver.spans) expect(JSON.stringify([s.name, s.attributes])).not.toContain(portfolioId);
  });

  it('its queries are CLIENT spans db.query, children of the request span in the same trace, without SQL or values', () => {
    const request = serverSpan(requestId);
    const queries = receiver.spans.filter((s) => s.kind === CLIENT && s.traceId === request.traceId);
    expect(queries.length).toBeGreaterThanOrEqual(1);
    for (const q of queries) {
      expect(q.name).toBe('db.query');
      expect(q.parentSpanId).toBe(request.spanId);
      expect(q.attributes['db.system']).toBe('postgresql');
      expect(q.attributes['db.operation']).toMatch(/^[A-Z]+$/);
      expect(Object.keys(q.attributes).sort()).toEqual(expect.arrayContaining(['db.operation', 'db.system']));
      expect(
        Object.keys(q.attributes).every((k) => ['db.system', 'db.operation', 'db.collection.name'].includes(k)),
      ).toBe(true);
    }
    expect(queries.some((q) => q.attributes['db.operation'] === 'SELECT')).toBe(true);
    // Nothing the collector received carries a statement, the portfolio's id or its title.
    const all = receiver.bodies.join('\n');
    expect(all).not.toMatch(/select\s|insert\s|update\s/i);
    expect(all).not.toContain('Traced work');
  });

  it('continues an incoming W3C traceparent: same trace, the remote span as parent', () => {
    const span = serverSpan(continuedRequestId);
    expect(span.traceId).toBe(remoteTrace);
    expect(span.parentSpanId).toBe(remoteParent);
    const queries = receiver.spans.filter((s) => s.kind === CLIENT && s.parentSpanId === span.spanId);
    expect(queries.length).toBeGreaterThanOrEqual(1);
    expect(queries.every((q) => q.traceId === remoteTrace)).toBe(true);
    // A request without one starts its own trace.
    expect(serverSpan(requestId).traceId).not.toBe(remoteTrace);
  });
});

describe('the statement attributes', () => {
  it('are the first keyword and the first table, never more of the text', () => {
    expect(operationOf('  /* c */ -- x\n select id from portfolios where id = $1')).toBe('SELECT');
    expect(operationOf('with x as (select 1) update users set name = $1')).toBe('WITH');
    expect(operationOf('')).toBe('OTHER');
    expect(collectionOf('select id from portfolios where id = $1')).toBe('portfolios');
    expect(collectionOf('insert into audit_inbox (a) values ($1)')).toBe('audit_inbox');
    expect(collectionOf("select 'x'")).toBeUndefined();
  });
});

interface Probe {
  statuses: number[];
  esm: string[];
  cjs: string[];
  packages: string[];
  apiGlobal: boolean;
  promClient: boolean;
}

/** Runs the probe child with the given endpoint (or none) and returns what it loaded. */
async function probe(endpoint: string | undefined): Promise<Probe> {
  const env = cleanEnv();
  delete env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  delete env['OTEL_SERVICE_NAME'];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/support/monitoring/otel-probe.ts')], {
    cwd: ROOT,
    env: { ...env, ...(endpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } : {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const run = await collect(child, { timeoutMs: 120_000 });
  expect(run.code, run.stderr).toBe(0);
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Probe;
}

describe('without OTEL_EXPORTER_OTLP_ENDPOINT: nothing is loaded, nothing is sent', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  it('the app serves requests that query the database and loads no OpenTelemetry SDK, exporter or registration', async () => {
    const loaded = await probe(undefined);
    expect(loaded.statuses).toEqual([200, 401, 404]);
    // Nothing imported as ESM (how the app's own code would load any of it, ./tracer.ts included).
    expect(loaded.esm).toEqual([]);
    // The one exception is not ours: prom-client (/metrics) requires the no-op API package at load
    // (for exemplars, which are off). No SDK, exporter, resource or convention module, and the
    // API's global registry was never created: nothing is registered, nothing can send.
    expect(loaded.promClient).toBe(true);
    expect(loaded.packages.filter((p) => p !== 'api')).toEqual([]);
    expect(loaded.apiGlobal).toBe(false);
    expect(receiver.requests).toBe(0);
  }, 150_000);

  it('the same probe with the endpoint set sees the modules load and the spans arrive (the check can fail)', async () => {
    const loaded = await probe(receiver.url);
    expect(loaded.statuses).toEqual([200, 401, 404]);
    expect(loaded.esm.join('\n')).toMatch(/@opentelemetry\/sdk-trace-node/);
    expect(loaded.packages).toEqual(
      expect.arrayContaining(['sdk-trace-node', 'sdk-trace-base', 'exporter-trace-otlp-http', 'resources']),
    );
    expect(loaded.apiGlobal).toBe(true);
    expect(receiver.spans.some((s) => s.kind === SERVER && s.name === 'POST /api/auth/login')).toBe(true);
  }, 150_000);
});
