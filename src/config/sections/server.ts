/** Server: mode, listening address, public URL, API docs and logging. */

import { int, nonEmpty, oneOf, publicBaseUrl, type SchemaSection } from '../parsers.js';

export const serverSchema = {
  NODE_ENV: {
    group: 'Server',
    doc: 'development, test or production. production refuses to start on unsafe defaults.',
    default: 'development',
    parse: oneOf(['development', 'test', 'production'] as const),
  },
  HOST: {
    group: 'Server',
    doc: 'Address to listen on. 127.0.0.1 keeps the server private; 0.0.0.0 listens on every interface (containers).',
    default: '127.0.0.1',
    parse: nonEmpty,
  },
  PORT: {
    group: 'Server',
    doc: 'TCP port to listen on (0 picks a free one).',
    default: '3000',
    parse: int(0, 65535),
  },
  PUBLIC_URL: {
    group: 'Server',
    doc: 'The public base URL of this API, used in links (signed media URLs, mails, OpenAPI servers, security.txt). https in production (http only for localhost, 127.0.0.0/8 or [::1]). Unset: http://HOST:PORT as the server really listens (the bound port when PORT=0; HOST 0.0.0.0 becomes 127.0.0.1 and :: becomes [::1]).',
    example: 'https://api.example.com',
    parse: publicBaseUrl,
  },
  API_DOCS: {
    group: 'Server',
    doc: 'The API reference at /docs and /api/openapi.json: public (served to anyone) or off (404). Unset: public outside production, off in production.',
    example: 'public',
    parse: oneOf(['public', 'off'] as const),
  },
  LOG_LEVEL: {
    group: 'Server',
    doc: 'pino log level: fatal, error, warn, info, debug, trace or silent.',
    default: 'info',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
  },
} satisfies SchemaSection;
