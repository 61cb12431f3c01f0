// Installs the git hooks in .husky/ on `npm install` (the "prepare" script).
// Not in CI or production installs (the pipeline runs the same checks itself, `.ci/run`), and never
// fatal: without a .git folder (a tarball, a Docker build) or without husky (`--omit=dev`), it only
// says so, because a missing hook must not break an install.
if (process.env.CI || process.env.NODE_ENV === 'production' || process.env.HUSKY === '0') process.exit(0);
try {
  const { default: husky } = await import('husky');
  const message = husky();
  if (message) console.log(`husky: ${message} (git hooks not installed)`);
} catch (err) {
  console.log(`husky: git hooks not installed (${err instanceof Error ? err.message : String(err)})`);
}
