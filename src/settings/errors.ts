/** Problem codes of the site settings (src/settings/). */
import { AppError } from '../http/errors.js';

export const settingsErrors = {
  /** The setting is set by an environment variable, which wins: change it there. */
  pinnedByEnv: (setting: string, env: string) =>
    new AppError(
      409,
      'SETTING_PINNED_BY_ENV',
      'Conflict',
      `${setting} is set by the environment variable ${env}, which wins; change it there`,
      {
        extensions: { setting, env },
      },
    ),
  invalid: (setting: string, reason: string) =>
    new AppError(400, 'SETTING_INVALID', 'Bad request', `${setting}: ${reason}`, { extensions: { setting } }),
};
