/** Reads the Prometheus text format that /metrics answers into samples a test can query. */
import type { FastifyInstance } from 'fastify';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    // `name{labels} value`: the value is after the last space (label values may hold spaces).
    const space = line.lastIndexOf(' ');
    const head = line.slice(0, space);
    const brace = head.indexOf('{');
    const name = brace < 0 ? head : head.slice(0, brace);
    if (space < 0 || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (brace >= 0) {
      for (const l of head.slice(brace + 1, -1).matchAll(LABEL))
        labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    }
    samples.push({ name, labels, value: Number(line.slice(space + 1)) });
  }
  return samples;
}

export async function scrape(app: FastifyInstance): Promise<Sample[]> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
  return parseMetrics(res.body);
}

/** The value of one series (0 when absent): every given label must match. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const hit = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hit?.value ?? 0;
}
