/**
 * The PostgreSQL + Redis pass of CI runs only the files test/service-files.ts lists. A file left
 * out of it that does use the services would silently lose its PostgreSQL and Redis coverage, so
 * the split is checked against what the files really import.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceSplit } from './service-files.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'pf-split-'));
  dirs.push(root);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
  return root;
}

describe('which test files the PostgreSQL + Redis pass runs', () => {
  it('every file that builds a test app or opens a test database is in it', async () => {
    const split = await serviceSplit();
    expect(split.withServices).toContain('src/auth/auth.test.ts');
    expect(split.withServices).toContain('src/platform/kv/kv.test.ts');
    expect(split.withServices).toContain('src/security/shield/limiter-contract.test.ts');
    expect(split.others).toContain('src/config/schema.test.ts');
    expect(split.others).toContain('src/http/cursor.test.ts');
    expect([...split.withServices, ...split.others].sort()).toEqual(
      [...new Set([...split.withServices, ...split.others])].sort(),
    );
  });

  it('follows imports through helpers, .js specifiers, index files, dynamic imports and cycles', async () => {
    const root = await tree({
      'test/helpers/services.ts': "export const URL = process.env['TEST_DATABASE_URL'];\n",
      'test/helpers/app.ts': "import { URL } from './services.js';\nimport './cycle.js';\nexport const a = URL;\n",
      'test/helpers/cycle.ts': "import './app.js';\n",
      'test/helpers/redis/index.ts': 'export const R = process.env.TEST_REDIS_URL;\n',
      'src/a/uses-app.test.ts': "import { a } from '../../test/helpers/app.js';\n",
      'src/a/dynamic.test.ts': "const m = await import('../../test/helpers/app.js');\n",
      'src/a/redis.test.ts': "import { R } from '../../test/helpers/redis';\n",
      'src/a/cycle-only.test.ts': "import '../../test/helpers/cycle.js';\n",
      'src/a/pure.test.ts': "import { x } from './pure.js';\nimport 'vitest';\n",
      'src/a/pure.ts': '// mentions TEST_CLAMAV_URL only, which both passes have\nexport const x = 1;\n',
    });
    const split = await serviceSplit(root);
    expect(split.withServices).toEqual([
      'src/a/cycle-only.test.ts',
      'src/a/dynamic.test.ts',
      'src/a/redis.test.ts',
      'src/a/uses-app.test.ts',
    ]);
    expect(split.others).toEqual(['src/a/pure.test.ts']);
  });
});
