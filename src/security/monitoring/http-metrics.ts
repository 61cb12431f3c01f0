/**
 * `http_request_duration_seconds`: one histogram of every answered request, labelled by method,
 * the route TEMPLATE (`/api/portfolios/:id`, never the raw URL) and the status class (`2xx`).
 * Requests that match no route are one series, `route="unmatched"`: a scanner walking a million
 * paths adds no series. The time is Fastify's own `reply.elapsedTime` (from the request's first
 * hook), so no hook of ours runs before the handler.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Seconds: from a cached public read (well under 5 ms) to a slow upload or export. */
export const HTTP_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type Child = ReturnType<Histogram<'method' | 'route' | 'status_class'>['labels']>;

export class HttpMetrics {
  readonly duration: Histogram<'method' | 'route' | 'status_class'>;
  /** One child per label set, so the hot path skips prom-client's per-call label hashing. */
  private readonly children = new Map<string, Child>();

  constructor(registers: Registry[]) {
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Answered requests by method, route template and status class.',
      labelNames: ['method', 'route', 'status_class'] as const,
      buckets: HTTP_BUCKETS,
      registers,
    });
  }

  observe(request: FastifyRequest, reply: FastifyReply): void {
    const method = METHODS.has(request.method) ? request.method : 'OTHER';
    // routeOptions.url is the template of the matched route; a 404 (or a router-level error) has none.
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    const statusClass = `${Math.trunc(reply.statusCode / 100)}xx`;
    const key = `${method} ${statusClass} ${route}`;
    let child = this.children.get(key);
    if (!child) {
      child = this.duration.labels({ method, route, status_class: statusClass });
      this.children.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
  }
}
