import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { Prisma } from '@mta/db';
import { LOGGER, type Logger } from '@mta/observability';
import type { Request, Response } from 'express';
import { ApiError } from './errors';

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'unavailable',
};

/**
 * What is logged of an unexpected error. Prisma's messages quote the arguments of the failed
 * call, which may hold password hashes or DKIM private keys: of those, only name and code.
 */
function describe(exception: unknown): Record<string, unknown> {
  if (!(exception instanceof Error)) return { message: String(exception) };
  if (exception.name.startsWith('PrismaClient') || exception.constructor.name.startsWith('PrismaClient'))
    return { name: exception.name, code: (exception as { code?: unknown }).code };
  return { name: exception.name, message: exception.message, stack: exception.stack };
}

/**
 * Every error of the HTTP API as one JSON shape:
 * `{ "error": { "status": 404, "code": "not_found", "message": "...", "fields": [...] } }`.
 * Unexpected errors are logged (with the route, never the request body) and answered with
 * a 500 that reveals nothing.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    const error = this.toApiError(exception, request);
    if (response.headersSent) {
      response.end();
      return;
    }
    if (error.status === 401) response.setHeader('WWW-Authenticate', 'Bearer');
    response.status(error.status).json({
      error: {
        status: error.status,
        code: error.code,
        message: error.message,
        ...(error.fields ? { fields: error.fields } : {}),
      },
    });
  }

  private toApiError(exception: unknown, request: Request): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message =
        typeof body === 'object' && body !== null && 'message' in body
          ? String(body.message)
          : exception.message;
      return new ApiError(
        status,
        CODES[status] ?? (status >= 500 ? 'internal_error' : 'bad_request'),
        message,
      );
    }
    if (exception instanceof Prisma.PrismaClientKnownRequestError) {
      // Races the services' own checks can lose (two creates of the same name at once).
      if (exception.code === 'P2002') return new ApiError(409, 'conflict', 'it already exists');
      if (exception.code === 'P2025') return new ApiError(404, 'not_found', 'it does not exist');
      if (exception.code === 'P2003') return new ApiError(409, 'conflict', 'it is still referenced');
    }
    // body-parser's errors that Nest passes on as they are (e.g. too large) carry a client
    // status; malformed JSON arrives as a BadRequestException (Nest maps SyntaxError).
    const status = (exception as { status?: unknown; expose?: unknown } | null)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const message = exception instanceof Error ? exception.message : 'bad request';
      return new ApiError(status, CODES[status] ?? 'bad_request', message);
    }
    this.logger.error(
      { err: describe(exception), method: request.method, url: request.originalUrl },
      'admin-api: unexpected error',
    );
    return new ApiError(500, 'internal_error', 'internal error');
  }
}
