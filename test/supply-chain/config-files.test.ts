/**
 * The GitHub side cannot run here, so its files are checked for what they must contain: valid YAML,
 * the triggers and jobs the security process relies on, every action pinned by full commit SHA (a
 * tag can be re-pointed at malicious code, a SHA cannot), read-only token permissions by default.
 * The container files are checked the same way (no Docker engine here): compose parses and starts a
 * configuration production accepts, the Dockerfile is multi-stage, non-root, with a health check.
 */
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, ConfigError } from '../../src/config/index.js';
import { schema } from '../../src/config/schema.js';

type Yaml = Record<string, unknown>;
const DAY = 86_400_000;

async function yamlFile(file: string): Promise<Yaml> {
  const doc = parse(await readFile(file, 'utf8')) as unknown;
  expect(doc, `${file} is a YAML mapping`).toBeTypeOf('object');
  return doc as Yaml;
}

/** Every `uses:` in a workflow, with its line (comments included, for the version note). */
async function usesLines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trimStart().replace(/^- +/, '').startsWith('uses:'));
}

describe('.github/workflows', () => {
  it('every action in every workflow is pinned by a 40-hex commit SHA with a version comment', async () => {
    const files = (await readdir('.github/workflows')).filter((f) => /\.ya?ml$/.test(f));
    expect(files.sort()).toEqual(expect.arrayContaining(['ci.yml', 'security-scan.yml']));
    for (const f of files) {
      const lines = await usesLines(`.github/workflows/${f}`);
      expect(lines.length, f).toBeGreaterThan(0);
      for (const line of lines) {
        const [, ref, comment] = /@(\S+)(.*)$/.exec(line) ?? [];
        expect(ref, `${f}: ${line.trim()} is pinned by a full commit SHA`).toMatch(/^[0-9a-f]{40}$/);
        expect(comment, `${f}: ${line.trim()} names its release`).toMatch(/^ # v\d/);
      }
    }
  });

  it('security-scan: triggers, daily 02:00 UTC, read-only token, the seven jobs', async () => {
    const wf = await yamlFile('.github/workflows/security-scan.yml');
    const on = wf['on'] as Yaml;
    expect((on['push'] as Yaml)['branches']).toEqual(['main', 'develop']);
    expect((on['pull_request'] as Yaml)['branches']).toEqual(['main', 'develop']);
    expect(on['schedule']).toEqual([{ cron: '0 2 * * *' }]);
    expect(on).toHaveProperty('workflow_dispatch');
    expect(wf['permissions']).toEqual({ contents: 'read' });

    const jobs = wf['jobs'] as Record<string, Yaml>;
    expect(Object.keys(jobs).sort()).toEqual([
      'codeql',
      'container-scan',
      'licenses',
      'npm-audit',
      'osv-scanner',
      'sbom',
      'secrets',
    ]);
    const steps = (job: string) => JSON.stringify(jobs[job]?.['steps']);
    expect(steps('npm-audit')).toContain('npm audit --omit=dev --audit-level=high');
    expect(steps('codeql')).toContain('github/codeql-action/init@');
    expect(steps('codeql')).toContain('"languages":"javascript-typescript"');
    expect(steps('codeql')).toContain('github/codeql-action/analyze@');
    expect(steps('secrets')).toMatch(/gitleaks\/gitleaks-action@|trufflesecurity\/trufflehog@/);
    expect(steps('secrets')).toContain('"fetch-depth":0');
    expect(steps('licenses')).toContain('npm run security -- --only licenses');
    expect(steps('sbom')).toContain('@cyclonedx/cyclonedx-npm');
    expect(steps('sbom')).toContain('actions/upload-artifact@');
    expect(steps('osv-scanner')).toContain('google/osv-scanner-action/osv-scanner-action@');
    expect(steps('container-scan')).toContain('docker build');
    expect(steps('container-scan')).toContain('aquasecurity/trivy-action@');
    // Only the job that uploads to code scanning may write, and only security events.
    for (const [name, job] of Object.entries(jobs)) {
      const perms = (job['permissions'] ?? {}) as Record<string, string>;
      const writes = Object.entries(perms)
        .filter(([, v]) => v === 'write')
        .map(([k]) => k);
      expect(writes, name).toEqual(name === 'codeql' ? ['security-events'] : []);
    }
  });

  it('ci: mirrors .ci/run (lint, typecheck, security, release smoke, tests embedded then on PostgreSQL 15 and Redis 7)', async () => {
    const wf = await yamlFile('.github/workflows/ci.yml');
    expect(wf['permissions']).toEqual({ contents: 'read' });
    const on = wf['on'] as Yaml;
    expect(on).toHaveProperty('push');
    expect(on).toHaveProperty('pull_request');
    const job = (wf['jobs'] as Record<string, Yaml>)['test']!;
    const services = job['services'] as Record<string, Yaml>;
    expect(services['postgres']?.['image']).toBe('postgres:15');
    expect(services['redis']?.['image']).toBe('redis:7');
    const steps = job['steps'] as { run?: string; env?: Record<string, string> }[];
    const runs = steps.filter((s) => s.run).map((s) => s.run);
    expect(runs).toEqual([
      'npm ci --no-audit --no-fund',
      'npm run lint',
      'npm run typecheck',
      'npm run security',
      expect.stringContaining('bash scripts/release-smoke.sh'),
      'npm test',
      'npm test',
    ]);
    const last = steps[steps.length - 1]!;
    expect(last.env?.['TEST_DATABASE_URL']).toMatch(/^postgres:\/\/.+@127\.0\.0\.1:5432\//);
    expect(last.env?.['TEST_REDIS_URL']).toBe('redis://127.0.0.1:6379');
    // .ci/run runs the same commands, in the same order.
    const ciRun = await readFile('.ci/run', 'utf8');
    const order = [
      'npm run lint',
      'npm run typecheck',
      'npm run security',
      'bash scripts/release-smoke.sh',
      'npm test',
      'TEST_REDIS_URL=$TEST_REDIS_URL_CI npm test',
    ];
    const positions = order.map((c) => ciRun.indexOf(c));
    expect(
      positions.every((p) => p >= 0),
      `.ci/run runs ${order.join(', ')}`,
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});

describe('scripts/release-smoke.sh', () => {
  it('builds and starts the server as the README and the Dockerfile do, in that order', async () => {
    const text = (await readFile('scripts/release-smoke.sh', 'utf8'))
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'))
      .join('\n');
    const steps = [
      'npm run build',
      'npm start',
      'npm ci --omit=dev --ignore-scripts',
      'HOME="$PROD_DIR" NODE_ENV=production',
      'node dist/server.js',
      'node dist/cli/main.js --help',
    ];
    const positions = steps.map((c) => text.indexOf(c));
    expect(
      positions.every((p) => p >= 0),
      `release-smoke.sh runs ${steps.join(', ')}`,
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // Every start waits for readiness with a deadline and prints the server log when it fails.
    expect(text).toMatch(/health\/ready/);
    expect(text).toMatch(/SMOKE_START_TIMEOUT=\$\{SMOKE_START_TIMEOUT:-\d+\}/);
    expect(text).toMatch(/-ge "\$SMOKE_START_TIMEOUT"/);
    expect(text).toMatch(/set -euo pipefail/);
  });
});

describe('.github/dependabot.yml', () => {
  it('updates npm, github-actions and docker weekly on Monday 09:00 UTC, with security updates grouped', async () => {
    const cfg = await yamlFile('.github/dependabot.yml');
    expect(cfg['version']).toBe(2);
    const updates = cfg['updates'] as Yaml[];
    const ecosystems = updates.map((u) => u['package-ecosystem']);
    expect(ecosystems).toEqual(expect.arrayContaining(['npm', 'github-actions', 'docker']));
    for (const u of updates) {
      const name = String(u['package-ecosystem']);
      expect(u['schedule'], name).toEqual({ interval: 'weekly', day: 'monday', time: '09:00', timezone: 'Etc/UTC' });
      expect(u['open-pull-requests-limit'], name).toBeGreaterThan(0);
      expect(u['open-pull-requests-limit'], name).toBeLessThanOrEqual(10);
      const groups = Object.values(u['groups'] as Record<string, Yaml>);
      expect(
        groups.some((g) => g['applies-to'] === 'security-updates'),
        `${name} groups security updates`,
      ).toBe(true);
    }
  });
});

describe('deploy/compose.yaml', () => {
  it('parses and has the production stack: app, PostgreSQL, Redis, ClamAV', async () => {
    const compose = await yamlFile('deploy/compose.yaml');
    const services = compose['services'] as Record<string, Yaml>;
    expect(Object.keys(services).sort()).toEqual(['app', 'clamav', 'postgres', 'redis']);
    const app = services['app']!;
    expect(app['build']).toEqual({ context: '..', dockerfile: 'Dockerfile' });
    expect(existsSync('Dockerfile')).toBe(true);
    expect(app['read_only']).toBe(true);
    expect(app['volumes']).toEqual(['app-data:/data']);
    expect(app['ports']).toEqual(['127.0.0.1:3000:3000']);
    for (const s of ['postgres', 'redis', 'clamav']) {
      expect(services[s]?.['ports'], `${s} is not published`).toBeUndefined();
      expect(services[s]?.['healthcheck'], `${s} has a health check`).toBeDefined();
    }
  });

  it("the app's environment names real variables and starts a configuration production accepts", async () => {
    const compose = await yamlFile('deploy/compose.yaml');
    const env = (compose['services'] as Record<string, Yaml>)['app']!['environment'] as Record<string, string>;
    // Variables of modules still to come (ARCHITECTURE.md) are allowed by name.
    const upcoming = ['CLAMAV_URL'];
    for (const key of Object.keys(env)) {
      expect(key in schema || upcoming.includes(key), `${key} is a configuration variable`).toBe(true);
    }
    // What an operator would put in deploy/.env; every `${VAR:?}` must have a sample here.
    const samples: Record<string, string> = {
      PUBLIC_URL: 'https://api.example.com',
      JWT_SECRET: 'j'.repeat(64),
      AUDIT_SIGNING_KEY: '11'.repeat(32),
      MFA_ENCRYPTION_KEY: 'm'.repeat(64),
      AUDIT_PII_KEY: 'a1'.repeat(32),
      POSTGRES_PASSWORD: 'pg-password',
      REDIS_PASSWORD: 'redis-password',
      SECURITY_CONTACT: 'mailto:security@example.com',
      SECURITY_TXT_EXPIRES: new Date(Date.now() + 180 * DAY).toISOString(),
    };
    const missing: string[] = [];
    const resolved: Record<string, string> = {};
    for (const [key, value] of Object.entries(env)) {
      // `${NAME}`, `${NAME:-default}` or `${NAME:?message}`, as compose interpolates them.
      resolved[key] = String(value).replace(/\$\{([^}]*)\}/g, (_m, inner: string) => {
        const [, name = '', kind, rest = ''] = /^(\w+)(?::([?-]))?(.*)$/s.exec(inner) ?? [];
        if (samples[name] !== undefined) return samples[name];
        if (kind === '-') return rest;
        missing.push(name);
        return '';
      });
    }
    expect(missing, 'required compose variables without a sample in this test').toEqual([]);
    try {
      const config = loadConfig(resolved);
      expect(config.NODE_ENV).toBe('production');
      const db = new URL(config.DATABASE_URL ?? '');
      expect([db.username, db.password, db.host, db.pathname]).toEqual([
        'portfolio',
        samples['POSTGRES_PASSWORD'],
        'postgres:5432',
        '/portfolio',
      ]);
    } catch (err) {
      if (err instanceof ConfigError) {
        throw new Error(`deploy/compose.yaml does not give production what it needs:\n${err.message}`);
      }
      throw err;
    }
  });
});

describe('Dockerfile', () => {
  it('is multi-stage, production deps only, non-root, health-checked, read-only friendly', async () => {
    const text = await readFile('Dockerfile', 'utf8');
    const instructions = text
      .replace(/\\\n/g, ' ')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const from = instructions.filter((l) => l.startsWith('FROM '));
    expect(from.length).toBeGreaterThanOrEqual(2);
    const runtimeStart = instructions.indexOf(from[from.length - 1]!);
    const runtime = instructions.slice(runtimeStart);
    expect(text).toMatch(/npm ci --omit=dev/);
    const user = runtime.filter((l) => l.startsWith('USER '));
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/^USER (root|0)(:|$)/);
    expect(runtime.find((l) => l.startsWith('HEALTHCHECK '))).toContain('/health/live');
    expect(runtime.join('\n')).toMatch(/HOST=0\.0\.0\.0/);
    expect(runtime.join('\n')).toMatch(/DATA_DIR=\/data/);
    expect(runtime).toContain('VOLUME ["/data"]');
    // The command starts what `npm run build` produces (tsconfig outDir + src/server.ts).
    const tsconfig = JSON.parse(await readFile('tsconfig.json', 'utf8')) as { compilerOptions: { outDir: string } };
    expect(runtime[runtime.length - 1]).toBe(`CMD ["node", "${tsconfig.compilerOptions.outDir}/server.js"]`);
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['build']).toContain('tsconfig.json');
    expect(text).toContain('RUN npm run build');
  });

  it('runs the server with the V8 options of `npm start` (NODE_OPTIONS), which the bench measures', async () => {
    // docs/ARCHITECTURE.md, "Footprint": a young generation of 1 MB semi-spaces on any host.
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> };
    const start = (pkg.scripts['start'] ?? '')
      .split('&&')
      .map((step) => step.trim().split(/\s+/))
      .find((w) => w[0] === 'node' && w[w.length - 1] === 'dist/server.js');
    expect(start, 'npm start runs node [options] dist/server.js').toBeDefined();
    const startArgs = start?.slice(1, -1) ?? [];
    expect(startArgs).toContain('--max-semi-space-size=1');
    const text = (await readFile('Dockerfile', 'utf8'))
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('#'))
      .join('\n')
      .replace(/\\\n/g, ' ');
    const runtime = text.slice(text.lastIndexOf('\nFROM '));
    const nodeOptions = /\bNODE_OPTIONS=("[^"]*"|\S+)/.exec(runtime)?.[1]?.replace(/^"|"$/g, '');
    expect(nodeOptions?.split(/\s+/)).toEqual(startArgs);
    // bench/run.ts reads the start script the same way for its process rows.
    const bench = await readFile('bench/run.ts', 'utf8');
    expect(bench).toContain("pkg.scripts['start']");
  });

  it('copies only files that exist and that .dockerignore lets into the build context', async () => {
    const text = await readFile('Dockerfile', 'utf8');
    const ignored = (await readFile('.dockerignore', 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'));
    const sources = text
      .split('\n')
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) =>
        l
          .replace(/^COPY\s+/, '')
          .split(/\s+/)
          .slice(0, -1),
      );
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'SECURITY.md']));
    for (const src of sources) {
      expect(existsSync(src), `${src} exists`).toBe(true);
      expect(ignored.includes(src), `${src} is not excluded by .dockerignore`).toBe(false);
    }
    for (const secretish of ['.env', '.git', 'node_modules', 'data']) expect(ignored).toContain(secretish);
  });
});

describe('docs/supply-chain.md', () => {
  it('gives the commands the Dockerfile and compose file are built for', async () => {
    const guide = await readFile('docs/supply-chain.md', 'utf8');
    expect(guide).toContain('docker build -t portfolio-backend .');
    expect(guide).toContain('docker compose -f deploy/compose.yaml');
    expect(guide).toContain('npm run security');
    const dockerfile = await readFile('Dockerfile', 'utf8');
    expect(dockerfile).toContain('docker build -t portfolio-backend .');
  });
});

describe('SECURITY.md', () => {
  it('covers what the disclosure policy promises', async () => {
    const policy = await readFile('SECURITY.md', 'utf8');
    for (const heading of [
      '## Supported versions',
      '## How to report',
      '## What to include',
      '## Coordinated disclosure',
      '## Safe harbour',
    ]) {
      expect(policy).toContain(heading);
    }
    expect(policy).toMatch(/within \*\*48 hours\*\*/);
    expect(policy).toMatch(/\*\*critical\*\* issues +\| within \*\*30 days\*\*/);
    expect(policy).toContain('/.well-known/security.txt');
  });
});
