import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isDatabaseUnavailable } from '../platform/db/unavailable.js';
import { AppError, httpErrors, isStorageFull, PROBLEM_CONTENT_TYPE, problemType, type ProblemBody } from './errors.js';

/**
 * One error handler for the whole app. Fastify's own errors (bad JSON, wrong content type,
 * body too large, schema validation) are mapped to stable codes; anything unexpected becomes a
 * 500 whose body says nothing about the cause (the log has it, with the request id).
 */
export function toAppError(err: FastifyError | AppError | Error): AppError {
  if (err instanceof AppError) return err;
  const fe = err as FastifyError & {
    validation?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[];
  };
  if (fe.validation) {
    const errors = fe.validation.map((v) => {
      const extra = v.params?.['additionalProperty'];
      const base = `${fe.validationContext ?? 'body'}${v.instancePath ?? ''}`;
      return {
        path: typeof extra === 'string' ? `${base}/${extra}` : base,
        message: typeof extra === 'string' ? 'unknown field' : (v.message ?? 'is invalid'),
      };
    });
    const first = errors[0];
    return new AppError(
      400,
      'VALIDATION_FAILED',
      'Request validation failed',
      first ? `${first.path}: ${first.message}` : 'The request is invalid',
      { extensions: { errors } },
    );
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Send the body as application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError(413, 'PAYLOAD_TOO_LARGE', 'Payload too large', 'The request body is too large');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError(400, 'MALFORMED_BODY', 'Bad request', 'The JSON body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError(400, 'MALFORMED_BODY', 'Bad request', 'Content-Length does not match the body');
    case 'FST_ERR_BAD_URL':
      return new AppError(400, 'BAD_URL', 'Bad request', 'The URL is not valid');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError(414, 'URI_TOO_LONG', 'URI too long', 'A path segment is too long');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError(400, 'MALFORMED_JSON', 'Bad request', 'The body is not valid JSON');
    default:
      break;
  }
  if (err instanceof SyntaxError || fe.statusCode === 400) {
    // JSON.parse errors from the body parser, and other 400s Fastify raises.
    return new AppError(400, 'MALFORMED_JSON', 'Bad request', 'The body is not valid JSON');
  }
  if (fe.statusCode === 408 || fe.code === 'FST_ERR_REQUEST_TIMEOUT') {
    return new AppError(408, 'REQUEST_TIMEOUT', 'Request timeout', 'The request took too long to arrive');
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError(fe.statusCode, 'BAD_REQUEST', 'Bad request', 'The request could not be processed');
  }
  if (isStorageFull(err)) {
    // ENOSPC or EDQUOT from any write (an upload, a staging file, a blob): the client learns the
    // server is out of space, not that something broke in an unknown way.
    return httpErrors.insufficientStorage(err);
  }
  if (isDatabaseUnavailable(err)) {
    // A restart or an outage of PostgreSQL: the client should come back, not report a bug.
    return new AppError(
      503,
      'DATABASE_UNAVAILABLE',
      'Service unavailable',
      'The database is unavailable; try again shortly',
      {
        headers: { 'retry-after': '5' },
        cause: err,
      },
    );
  }
  return new AppError(500, 'INTERNAL_ERROR', 'Internal server error', 'Something went wrong on our side', {
    cause: err,
  });
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const body: ProblemBody = {
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    requestId: String(request.id),
    ...error.extensions,
  };
  for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value);
  // The wait of a lockout, a rate limit, a block or an outage in the body too, for clients (the
  // web console) that show it and cannot always read the header.
  const retryAfter = error.headers['retry-after'];
  if (retryAfter !== undefined && /^\d+$/.test(retryAfter) && body.retryAfter === undefined) {
    body.retryAfter = Number(retryAfter);
  }
  // A 413 comes before the body was read, whoever refused it: the connection is closed (by
  // lingering, src/security/shield/lingering-close.ts) rather than kept to read the rest.
  if (error.status === 413) void reply.header('connection', 'close');
  return reply.status(error.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

export const problemPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((err: FastifyError, request, reply) => {
      const appError = toAppError(err);
      if (appError.status >= 500) {
        request.log.error({ err }, 'request failed');
      } else {
        request.log.info({ code: appError.code, status: appError.status }, 'request rejected');
      }
      return sendProblem(request, reply, appError);
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(
        request,
        reply,
        new AppError(
          404,
          'ROUTE_NOT_FOUND',
          'Not found',
          `No route for ${request.method} ${request.url.split('?')[0]}`,
        ),
      ),
    );
  },
  { name: 'problem' },
);
