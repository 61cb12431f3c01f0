/**
 * Captures what the app logs, with the app's own logger configuration (redaction, serializers),
 * so tests can search the whole log for values that must never be there.
 */
import { Writable } from 'node:stream';
import { loggerOptions, type LoggerOptions } from '../../../src/app.js';
import type { Config } from '../../../src/config/index.js';

export interface LogCapture {
  /** Every line written so far (JSON, one per log call). */
  readonly lines: string[];
  /** The whole captured log as text. */
  text(): string;
  /** The logger option for buildApp / buildTestApp: the production configuration, into this capture. */
  logger(level?: Config['LOG_LEVEL']): LoggerOptions;
}

export function captureLogs(): LogCapture {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return {
    lines,
    text: () => lines.join(''),
    logger: (level = 'trace') => ({ ...loggerOptions({ LOG_LEVEL: level }), stream }),
  };
}

/**
 * Every place in `log` where one of `secrets` appears, also percent-encoded or JSON-escaped (as
 * a URL or a JSON string would carry it). Empty when none does.
 */
export function leaks(log: string, secrets: Iterable<string>): string[] {
  const found: string[] = [];
  for (const secret of new Set(secrets)) {
    if (secret.length < 8) throw new Error(`too short to search for: ${JSON.stringify(secret)}`);
    const forms = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
    for (const form of forms) {
      const at = log.indexOf(form);
      if (at !== -1) {
        found.push(`${secret.slice(0, 12)}… in: ${log.slice(Math.max(0, at - 120), at + form.length + 40)}`);
        break;
      }
    }
  }
  return found;
}
