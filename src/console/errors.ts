import { AppError, httpErrors } from '../http/errors.js';

/** Problem codes of the web console's serving (stable: clients and docs rely on them). */
export const consoleErrors = {
  notBuilt: () =>
    new AppError(
      503,
      'CONSOLE_NOT_BUILT',
      'Console not built',
      'The web console has not been built on this server: run `npm run build` (or `npm start`, which builds it when needed)',
      { headers: { 'retry-after': '60' } },
    ),
  /** An asset name that is not in this build (an old hash, or a guess). */
  notFound: () => httpErrors.notFound('Console file'),
};
