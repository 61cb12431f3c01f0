/**
 * The monitoring artefacts in deploy/ (Prometheus rules, their unit tests, the Grafana dashboard,
 * the Alertmanager example) against what this server really exports: a renamed metric breaks
 * this test, not an operator's alerting months later.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser } from '../../../test/helpers/factories.js';
import { scrape } from '../../../test/support/monitoring/scrape.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const DEPLOY = path.join(ROOT, 'deploy');

interface Rule {
  alert: string;
  expr: string;
  labels?: { severity?: string };
  annotations?: { summary?: string; runbook?: string };
}
const rules: Rule[] = (
  parse(readFileSync(path.join(DEPLOY, 'prometheus/alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
interface Panel {
  id: number;
  title: string;
  datasource?: { uid?: string };
  targets: { expr: string; refId: string }[];
}
const dashboard = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana/portfolio-cms.json'), 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
};

/** Metric names in a PromQL expression: this server's families (Prometheus' own `up` aside). */
const METRIC =
  /\b(?:http|auth|uploads|media|audit|backup|db|kv|rate_limit|auto_block|load_shed|nodejs|process|security)_[a-z0-9_]+/g;
const SUFFIX = /_(bucket|count|sum)$/;

let t: TestApp;
/** Series names in a scrape, and every family declared by a `# TYPE` line (a labelled counter
 * has no series until first counted). */
let exported: Set<string>;
let declared: Set<string>;

beforeAll(async () => {
  t = await buildTestApp();
  await createUser(t.app); // a sign-in, so labelled counters have a series
  exported = new Set((await scrape(t.app)).map((s) => s.name));
  const res = await t.app.inject({ method: 'GET', url: '/metrics' });
  declared = new Set([...res.body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string));
});
afterAll(async () => {
  await t.close();
});

function referenced(expr: string): string[] {
  return [...expr.matchAll(METRIC)].map((m) => m[0]);
}

function isExported(name: string): boolean {
  return exported.has(name) || declared.has(name.replace(SUFFIX, ''));
}

describe('deploy/prometheus/alerts.yml', () => {
  it('names only metrics this server exports', () => {
    const unknown = rules.flatMap((r) =>
      referenced(r.expr)
        .filter((n) => !isExported(n))
        .map((n) => `${r.alert}: ${n}`),
    );
    expect(unknown).toEqual([]);
    expect(rules.flatMap((r) => referenced(r.expr)).length).toBeGreaterThan(15);
  });

  it('gives every rule a severity and a runbook section that exists in docs/MONITORING.md', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/MONITORING.md'), 'utf8');
    const anchors = new Set(
      [...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
        (m[1] as string)
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const r of rules) {
      expect(['critical', 'warning', 'info'], r.alert).toContain(r.labels?.severity);
      const anchor = r.annotations?.runbook?.split('#')[1];
      expect(anchors.has(anchor ?? ''), `${r.alert} runbook #${anchor}`).toBe(true);
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  });

  const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
  it.runIf(promtool !== undefined || process.env.CI === 'true')(
    'passes promtool check rules and the rule unit tests',
    () => {
      expect(promtool, 'CI installs promtool (Debian prometheus)').toBeDefined();
      const dir = path.join(DEPLOY, 'prometheus');
      execFileSync(promtool as string, ['check', 'rules', 'alerts.yml'], { cwd: dir, stdio: 'pipe' });
      execFileSync(promtool as string, ['test', 'rules', 'alerts.test.yml'], { cwd: dir, stdio: 'pipe' });
    },
  );
});

describe('deploy/grafana/portfolio-cms.json', () => {
  it('is a dashboard whose every panel queries metrics this server exports', () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    const unknown: string[] = [];
    for (const p of dashboard.panels) {
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const target of p.targets) {
        const names = referenced(target.expr);
        expect(names.length, `${p.title} ${target.refId}`).toBeGreaterThan(0);
        unknown.push(...names.filter((n) => !isExported(n)).map((n) => `${p.title}: ${n}`));
      }
    }
    expect(unknown).toEqual([]);
  });
});

describe('deploy/alertmanager/alertmanager.yml', () => {
  it('routes every severity the rules use to a receiver it defines', () => {
    const am = parse(readFileSync(path.join(DEPLOY, 'alertmanager/alertmanager.yml'), 'utf8')) as {
      route: { receiver: string; routes: { matchers: string[]; receiver: string }[] };
      receivers: { name: string }[];
    };
    const names = new Set(am.receivers.map((r) => r.name));
    expect(names.has(am.route.receiver)).toBe(true);
    for (const r of am.route.routes) expect(names.has(r.receiver), r.receiver).toBe(true);
    const routed = new Set(am.route.routes.flatMap((r) => r.matchers.map((m) => /severity="(\w+)"/.exec(m)?.[1])));
    for (const severity of new Set(rules.map((r) => r.labels?.severity))) expect(routed.has(severity)).toBe(true);
  });
});
