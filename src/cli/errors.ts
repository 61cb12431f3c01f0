/** An operator mistake: printed as one sentence on stderr, exit 1, no stack trace (see runCli). */
export class CliError extends Error {}
