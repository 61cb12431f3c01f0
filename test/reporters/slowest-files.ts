/**
 * A vitest reporter that prints the slowest test files at the end of a run (vitest.config.ts
 * adds it beside the default one): where the next minute of CI time is to be won. A file's time
 * is its import (collect) plus its tests and hooks, as vitest measures them.
 */
import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

const SHOWN = 10;

export default class SlowestFilesReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const rows = testModules
      .map((m) => {
        const d = m.diagnostic();
        return { file: path.relative(process.cwd(), m.moduleId), collect: d.collectDuration, tests: d.duration };
      })
      .sort((a, b) => b.collect + b.tests - (a.collect + a.tests))
      .slice(0, SHOWN);
    if (rows.length === 0) return;
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`.padStart(8);
    const lines = rows.map(
      (r) => `${seconds(r.collect + r.tests)} ${seconds(r.collect)} ${seconds(r.tests)}  ${r.file}`,
    );
    process.stdout.write(
      `\nThe ${rows.length} slowest test files (total, import, tests and hooks):\n${lines.join('\n')}\n`,
    );
  }
}
