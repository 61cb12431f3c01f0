/**
 * Upload error codes (UPPER_SNAKE, stable). Every refusal names what was wrong with the file in
 * words the uploader can act on, and never echoes the file's bytes or a server path.
 */
import { languageErrors } from '../../content/languages/errors.js';
import { AppError } from '../../http/errors.js';

export const UPLOAD_ERROR_CODES = [
  'MULTIPART_REQUIRED',
  'UPLOAD_MALFORMED',
  'UPLOAD_FILE_MISSING',
  'UPLOAD_TOO_MANY_FILES',
  'UPLOAD_CATEGORY_INVALID',
  'UPLOAD_TOO_LARGE',
  'UPLOAD_EMPTY',
  'UPLOAD_TYPE_UNSUPPORTED',
  'UPLOAD_TYPE_MISMATCH',
  'IMAGE_UNREADABLE',
  'IMAGE_TOO_MANY_PIXELS',
  'IMAGE_TOO_MANY_FRAMES',
  'DOCUMENT_UNREADABLE',
  'DOCUMENT_ACTIVE_CONTENT',
  'MEDIA_NOT_AVAILABLE',
  'MEDIA_NOT_QUARANTINED',
  'SIGNED_URL_INVALID',
  'SIGNED_URL_EXPIRED',
  'DEFAULT_RESUME_CONFLICT',
] as const;

const MiB = 1024 * 1024;
const size = (bytes: number) => (bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`);

export const uploadErrors = {
  multipartRequired: () =>
    new AppError(
      415,
      'MULTIPART_REQUIRED',
      'Unsupported media type',
      'Send the file as multipart/form-data with the file in the field "file"',
    ),
  malformed: (detail: string) => new AppError(400, 'UPLOAD_MALFORMED', 'Bad request', detail),
  fileMissing: () =>
    new AppError(400, 'UPLOAD_FILE_MISSING', 'Bad request', 'The request has no file in the field "file"'),
  tooManyFiles: () =>
    new AppError(400, 'UPLOAD_TOO_MANY_FILES', 'Bad request', 'Send one file per request, in the field "file"'),
  categoryInvalid: (detail: string) => new AppError(400, 'UPLOAD_CATEGORY_INVALID', 'Bad request', detail),
  tooLarge: (what: string, max: number) =>
    new AppError(413, 'UPLOAD_TOO_LARGE', 'Payload too large', `${what} may be at most ${size(max)}`, {
      headers: { connection: 'close' },
    }),
  empty: () => new AppError(400, 'UPLOAD_EMPTY', 'Bad request', 'The file is empty'),
  /** Recorded on a row whose server process died while it was staged (./staging.ts); never answered. */
  interrupted: () =>
    new AppError(
      503,
      'UPLOAD_INTERRUPTED',
      'Service unavailable',
      'The server stopped while the upload was in progress',
    ),
  unsupported: (detail: string) => new AppError(415, 'UPLOAD_TYPE_UNSUPPORTED', 'Unsupported media type', detail),
  mismatch: (detail: string) => new AppError(415, 'UPLOAD_TYPE_MISMATCH', 'Unsupported media type', detail),
  imageUnreadable: (detail = 'The image could not be decoded (damaged or truncated)') =>
    new AppError(422, 'IMAGE_UNREADABLE', 'Unprocessable content', detail),
  tooManyPixels: (pixels: number, max: number) =>
    new AppError(
      422,
      'IMAGE_TOO_MANY_PIXELS',
      'Unprocessable content',
      `The image has ${pixels} pixels; at most ${max} are accepted`,
    ),
  tooManyFrames: (frames: number, max: number) =>
    new AppError(
      422,
      'IMAGE_TOO_MANY_FRAMES',
      'Unprocessable content',
      `The image has ${frames} frames; at most ${max} are accepted`,
    ),
  documentUnreadable: (detail = 'The PDF could not be read (damaged or truncated)') =>
    new AppError(422, 'DOCUMENT_UNREADABLE', 'Unprocessable content', detail),
  activeContent: (detail: string) => new AppError(422, 'DOCUMENT_ACTIVE_CONTENT', 'Unprocessable content', detail),
  notAvailable: (status: string) =>
    new AppError(
      409,
      'MEDIA_NOT_AVAILABLE',
      'Conflict',
      `The file is ${status}, not available: only available files are served`,
    ),
  notQuarantined: (status: string) =>
    new AppError(409, 'MEDIA_NOT_QUARANTINED', 'Conflict', `The file is ${status}, not quarantined`),
  signedUrlInvalid: () => new AppError(403, 'SIGNED_URL_INVALID', 'Forbidden', 'The link is not valid'),
  signedUrlExpired: () => new AppError(410, 'SIGNED_URL_EXPIRED', 'Gone', 'The link has expired; ask for a new one'),
  defaultResumeConflict: () =>
    new AppError(
      409,
      'DEFAULT_RESUME_CONFLICT',
      'Conflict',
      'Another request set the default resume at the same time; try again',
    ),
  notFound: () => new AppError(404, 'NOT_FOUND', 'Not found', 'Media not found'),
  /** The same 400 LANGUAGE_NOT_ENABLED as every other content write. */
  languageNotEnabled: (path: string, language: string) => languageErrors.notEnabled(path, language.slice(0, 40)),
  resumeNotFound: () => new AppError(404, 'RESUME_NOT_FOUND', 'Not found', 'No resume is published for this portfolio'),
};
