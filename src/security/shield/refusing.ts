import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../http/errors.js';
import { sendProblem } from '../../http/problem-plugin.js';

/**
 * Runs a hook and answers a refusal (AppError) itself, as problem+json with a plain JSON
 * serializer: a route's own response schema for that status (/health/ready declares its 503
 * body) must not reject the problem body and turn a 503 into a 500.
 */
export function refusing(hook: (request: FastifyRequest, reply: FastifyReply) => Promise<void>) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    try {
      await hook(request, reply);
      return undefined;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      request.log.info({ code: err.code, status: err.status }, 'request refused by the shield');
      return sendProblem(
        request,
        reply.serializer((payload: unknown) => JSON.stringify(payload)),
        err,
      );
    }
  };
}
