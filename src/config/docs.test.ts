/** The documented configuration is the schema: `.env.example` and the README table match it. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderEnvExample, replaceReadmeTable } from './docs.js';
import { schema } from './schema.js';

describe('configuration docs', () => {
  it('.env.example is generated from the schema (run `npm run docs:env`)', async () => {
    expect(await readFile('.env.example', 'utf8')).toBe(renderEnvExample());
  });

  it('README table is generated from the schema (run `npm run docs:env`)', async () => {
    const readme = await readFile('README.md', 'utf8');
    expect(readme).toBe(replaceReadmeTable(readme));
    for (const key of Object.keys(schema)) expect(readme).toContain(`\`${key}\``);
  });
});
