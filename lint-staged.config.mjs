/**
 * What the pre-commit hook (.husky/pre-commit) runs on the staged files. lint-staged appends the
 * staged paths to each command and re-stages what Prettier rewrites.
 *
 * Order matters: the secret scan runs on every staged file first (a key must never reach history,
 * even in a file no other tool looks at); Prettier formats before ESLint so ESLint sees the final
 * text; the typecheck runs once on the whole project, because a change in one file can break
 * another that is not staged.
 */
export default {
  '*': 'secretlint --no-glob --maskSecrets',
  '*.{ts,mts,cts,js,mjs,cjs}': ['prettier --write --ignore-unknown', 'eslint --no-warn-ignored'],
  '*.{json,md,yml,yaml}': 'prettier --write --ignore-unknown',
  '*.{ts,mts,cts}': () => 'tsc -p tsconfig.check.json',
};
