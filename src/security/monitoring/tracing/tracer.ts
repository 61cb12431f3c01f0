/**
 * The tracer behind ./plugin.ts, loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 *
 * - A SERVER span per request, `METHOD /route/template` (the matched route's template, never the
 *   raw URL: ids and one-time tokens in paths stay out of traces), with http.request.method,
 *   http.route, http.response.status_code and `request.id` (the id of the logs and of the
 *   x-request-id header). Started in onRequest, ended in onResponse (or when the client aborts);
 *   a 5xx marks it as an error. An incoming W3C `traceparent` is continued. No URL, query,
 *   header or body is recorded.
 * - A CLIENT span `db.query` per statement run inside a request (the Db's one tracer slot,
 *   src/platform/db/index.ts: PGlite and pg alike, transactions included), child of the request's
 *   span through the AsyncLocalStorage context manager of sdk-trace-node: db.system
 *   (`postgresql`), db.operation (the statement's first keyword, e.g. SELECT) and
 *   db.collection.name (the first table it names). Never the SQL text and never a parameter
 *   value: a statement's text may carry literals, so it is not exported. Statements of the
 *   background loops (no request) make no span.
 * - Spans go through a batch span processor to OTLP/HTTP JSON at <endpoint>/v1/traces; app close
 *   flushes it (provider shutdown), then unregisters the API globals so another app in the same
 *   process can start tracing again.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
} from '@opentelemetry/semantic-conventions';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pgErrorCode, type Db, type QueryTracer } from '../../../platform/db/index.js';

export interface TracingOptions {
  /** Collector base URL, without a trailing slash. */
  endpoint: string;
  serviceName: string;
  db: Db;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The statement's first keyword (leading comments skipped), upper case; OTHER when there is none. */
export function operationOf(sql: string): string {
  let i = 0;
  for (;;) {
    while (i < sql.length && /\s/.test(sql.charAt(i))) i++;
    if (sql.startsWith('--', i)) {
      const eol = sql.indexOf('\n', i);
      i = eol === -1 ? sql.length : eol + 1;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else break;
  }
  const word = /^[A-Za-z]+/.exec(sql.slice(i, i + 32))?.[0];
  return word ? word.toUpperCase() : 'OTHER';
}

/** The first table the statement names (after from, into, update, join), or undefined. */
export function collectionOf(sql: string): string | undefined {
  return /\b(?:from|into|update|join)\s+([A-Za-z_][A-Za-z0-9_.]{0,127})/i.exec(sql)?.[1]?.toLowerCase();
}

interface RequestTrace {
  span: Span;
  ctx: Context;
}

export function installTracing(app: FastifyInstance, options: TracingOptions): void {
  const exporter = new OTLPTraceExporter({ url: `${options.endpoint}/v1/traces`, timeoutMillis: 5_000 });
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName })),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  // The AsyncLocalStorage context manager and the W3C trace-context propagator, as API globals.
  provider.register();
  const tracer = provider.getTracer('portfolio-cms');
  const traces = new WeakMap<FastifyRequest, RequestTrace>();

  // Callback style: `done` runs inside the span's context, so everything the request does after
  // this hook (other hooks, the handler, their queries) sees the span as active.
  app.addHook('onRequest', (request, _reply, done) => {
    const method = METHODS.has(request.method) ? request.method : 'OTHER';
    const route = request.is404 ? undefined : request.routeOptions.url;
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(
      route ? `${method} ${route}` : method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: method,
          ...(route ? { [ATTR_HTTP_ROUTE]: route } : {}),
          'request.id': String(request.id),
        },
      },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    traces.set(request, { span, ctx });
    context.with(ctx, done);
  });
  // A body is read from the socket's events, outside the context: enter it again before the handler.
  app.addHook('preHandler', (request, _reply, done) => {
    const t = traces.get(request);
    if (t) context.with(t.ctx, done);
    else done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const t = traces.get(request);
    if (t) {
      t.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, reply.statusCode);
      if (reply.statusCode >= 500) t.span.setStatus({ code: SpanStatusCode.ERROR });
      t.span.end();
      traces.delete(request);
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    const t = traces.get(request);
    if (t) {
      t.span.setAttribute('error.type', 'aborted');
      t.span.setStatus({ code: SpanStatusCode.ERROR });
      t.span.end();
      traces.delete(request);
    }
    done();
  });

  const queries: QueryTracer = (sql, run) => {
    const parent = context.active();
    if (!trace.getSpan(parent)) return run();
    const table = collectionOf(sql);
    const span = tracer.startSpan(
      'db.query',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system': 'postgresql',
          'db.operation': operationOf(sql),
          ...(table ? { 'db.collection.name': table } : {}),
        },
      },
      parent,
    );
    return run().then(
      (result) => {
        span.end();
        return result;
      },
      (err: unknown) => {
        // The SQLSTATE only: a driver's message may quote the statement or a value.
        span.setAttribute('error.type', pgErrorCode(err) ?? 'error');
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        throw err;
      },
    );
  };
  options.db.traceQueries?.(queries);

  app.addHook('onClose', async () => {
    options.db.traceQueries?.(undefined);
    try {
      await provider.shutdown();
    } catch (err) {
      app.log.warn({ err }, 'tracing: could not flush the last spans');
    } finally {
      trace.disable();
      context.disable();
      propagation.disable();
    }
  });
}
