import { schema, type VarSpec } from './schema.js';

/**
 * Renders the configuration schema as `.env.example` and as the README's table, so the docs
 * cannot drift from the code (a test compares the committed files with these renderings).
 */
function entries(): [string, VarSpec<unknown>][] {
  return Object.entries(schema) as [string, VarSpec<unknown>][];
}

export function renderEnvExample(): string {
  const lines = [
    '# Every variable the server reads, with its default. Copy to .env and change what you need.',
    '# Generated from src/config/schema.ts by `npm run docs:env`; edit the schema, not this file.',
  ];
  let group = '';
  for (const [key, spec] of entries()) {
    if (spec.group !== group) {
      group = spec.group;
      lines.push('', `# ---- ${group} ----`);
    }
    lines.push(`# ${spec.doc}`);
    if (spec.default !== undefined) lines.push(`${key}=${spec.default}`);
    else lines.push(`# ${key}=${spec.example ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderReadmeTable(): string {
  const rows = ['| Variable | Default | Description |', '|---|---|---|'];
  for (const [key, spec] of entries()) {
    const def = spec.default === undefined ? '(unset)' : spec.default === '' ? '(empty)' : `\`${spec.default}\``;
    rows.push(`| \`${key}\` | ${def} | ${spec.doc.replace(/\|/g, '\\|')} |`);
  }
  return rows.join('\n');
}

export const README_START = '<!-- config-table:start -->';
export const README_END = '<!-- config-table:end -->';

export function replaceReadmeTable(readme: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error('README.md has no config-table markers');
  return `${readme.slice(0, start + README_START.length)}\n${renderReadmeTable()}\n${readme.slice(end)}`;
}
