/**
 * OpenTelemetry tracing (docs/MONITORING.md, "Tracing"), only when OTEL_EXPORTER_OTLP_ENDPOINT is
 * set. Unset, this plugin returns at once: no OpenTelemetry module is imported (./tracer.ts, the
 * only file that imports one, is loaded with a dynamic import behind the check), no hook is added
 * and the database keeps no tracer; tracing.test.ts proves it in a child process.
 *
 * Registered first among the features (it depends on `deps` only), so its onRequest hook opens the
 * request's span before any other feature's hook runs a query.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const tracingPlugin = fp(
  async (app: FastifyInstance) => {
    const { config, db } = app.deps;
    const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
    if (!endpoint) return;
    const { installTracing } = await import('./tracer.js');
    installTracing(app, { endpoint, serviceName: config.OTEL_SERVICE_NAME, db });
  },
  { name: 'tracing', dependencies: ['deps'] },
);
