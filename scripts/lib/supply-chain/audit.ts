/**
 * `npm audit --omit=dev` against the registry's advisory database. Offline machines and registry
 * mirrors that do not implement the audit endpoint cannot answer: that is said plainly and is not a
 * finding (the security-scan workflow runs the audit, and OSV-Scanner, where the network is real).
 */
import { run } from './exec.js';
import type { CheckResult } from './types.js';

const LEVELS = ['info', 'low', 'moderate', 'high', 'critical'] as const;
export type AuditLevel = (typeof LEVELS)[number];

interface AuditVia {
  title?: string;
  url?: string;
  severity?: string;
}
interface AuditReport {
  vulnerabilities?: Record<
    string,
    { severity?: string; via?: (string | AuditVia)[]; range?: string; fixAvailable?: unknown }
  >;
  metadata?: { vulnerabilities?: Record<string, number> };
  error?: { summary?: string; detail?: string; code?: string };
  message?: string;
  statusCode?: number;
}

/** Reads `npm audit --json` output; pure, so tests can feed it planted reports. */
export function interpretAudit(stdout: string, stderr: string, level: AuditLevel = 'high'): CheckResult {
  const result: CheckResult = { name: 'audit', findings: [], notes: [] };
  let report: AuditReport | undefined;
  try {
    report = JSON.parse(stdout) as AuditReport;
  } catch {
    report = undefined;
  }
  if (!report || !report.vulnerabilities) {
    const why =
      report?.message ?? report?.error?.summary ?? stderr.split('\n').find((l) => l.trim() !== '') ?? 'no report';
    result.notes.push(`audit: npm audit could not get an answer from the registry (${why.trim()}); not checked here`);
    return result;
  }
  const threshold = LEVELS.indexOf(level);
  for (const [name, v] of Object.entries(report.vulnerabilities)) {
    const severity = (v.severity ?? 'info') as AuditLevel;
    if (LEVELS.indexOf(severity) < threshold) continue;
    const advisories = (v.via ?? []).filter((x): x is AuditVia => typeof x === 'object');
    const via = (v.via ?? []).filter((x): x is string => typeof x === 'string');
    const what =
      advisories.length > 0
        ? advisories.map((a) => `${a.title ?? 'advisory'}${a.url ? ` (${a.url})` : ''}`).join('; ')
        : `via ${via.join(', ')}`;
    result.findings.push(`audit: ${name}${v.range ? ` ${v.range}` : ''} is ${severity}: ${what}`);
  }
  const counts = report.metadata?.vulnerabilities;
  if (counts) {
    result.notes.push(
      `audit: ${LEVELS.map((l) => `${counts[l] ?? 0} ${l}`).join(', ')} (failing at ${level} and above)`,
    );
  }
  return result;
}

export async function checkAudit(options: { cwd: string; level?: AuditLevel }): Promise<CheckResult> {
  const level = options.level ?? 'high';
  const res = await run('npm', ['audit', '--omit=dev', `--audit-level=${level}`, '--json'], {
    cwd: options.cwd,
    timeoutMs: 60_000,
  });
  if (res.error && res.stdout.trim() === '') {
    return { name: 'audit', findings: [], notes: [`audit: npm audit did not finish (${res.error}); not checked here`] };
  }
  return interpretAudit(res.stdout, res.stderr, level);
}
