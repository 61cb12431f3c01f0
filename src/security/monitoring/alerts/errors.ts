import { AppError } from '../../../http/errors.js';

/** Problem codes of operator alerts (stable: clients and docs rely on them). */
export const alertErrors = {
  notFound: () => new AppError(404, 'ALERT_NOT_FOUND', 'Not found', 'Alert not found'),
};
