/**
 * The standard input of the running command: process.stdin, unless runCli was given another one
 * (an embedding caller, e.g. the tests' in-process runner, test/helpers/cli.ts). Commands read it
 * through `cliStdin()` and never from process.stdin directly. No imports: src/cli/index.ts loads
 * this module for `--help` too (test/footprint.test.ts).
 */
export type CliInput = NodeJS.ReadableStream & { isTTY?: boolean };

let current: CliInput | undefined;

export function cliStdin(): CliInput {
  return current ?? process.stdin;
}

/** Runs `fn` with `stdin` as the commands' standard input (when given), restoring the previous one after. */
export async function withCliStdin<T>(stdin: CliInput | undefined, fn: () => Promise<T>): Promise<T> {
  if (stdin === undefined) return fn();
  const previous = current;
  current = stdin;
  try {
    return await fn();
  } finally {
    current = previous;
  }
}
