import { AppError } from '../../http/errors.js';

/** The audit module's error codes (UPPER_SNAKE, stable). */
export const AUDIT_ERROR_CODES = [
  'AUDIT_EVENT_INVALID',
  'AUDIT_RANGE_INVALID',
  'AUDIT_UNAVAILABLE',
  'AUDIT_NOT_CONFIGURED',
  'AUDIT_CHAIN_DAMAGED',
  'AUDIT_BUNDLE_INVALID',
] as const;

export const auditErrors = {
  invalidEvent: (detail: string) => new AppError(500, 'AUDIT_EVENT_INVALID', 'Invalid audit event', `The audit event was refused: ${detail}`),
  invalidRange: (detail: string) => new AppError(400, 'AUDIT_RANGE_INVALID', 'Bad request', detail),
  unavailable: (detail: string) =>
    new AppError(503, 'AUDIT_UNAVAILABLE', 'Service unavailable', detail, { headers: { 'retry-after': '5' } }),
  notConfigured: (detail: string) => new AppError(500, 'AUDIT_NOT_CONFIGURED', 'Audit log not configured', detail),
  damaged: (detail: string) => new AppError(409, 'AUDIT_CHAIN_DAMAGED', 'Audit chain damaged', detail),
  badBundle: (detail: string) => new AppError(400, 'AUDIT_BUNDLE_INVALID', 'Bad audit bundle', detail),
};
