import type { z } from 'zod';

/** One bad field of a request: `field` is its path (`sendAs.1`), or `(body)` / `(query)` for the whole. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * An error the API answers with on purpose. The exception filter renders every error as
 * `{ "error": { "status", "code", "message", "fields"? } }`.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldError[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function notFound(what: string): ApiError {
  return new ApiError(404, 'not_found', `${what} does not exist`);
}

export function conflict(message: string): ApiError {
  return new ApiError(409, 'conflict', message);
}

export function invalid(fields: FieldError[], message = 'the request is not valid'): ApiError {
  return new ApiError(
    400,
    'validation_failed',
    `${message}: ${fields.map((f) => f.field).join(', ')}`,
    fields,
  );
}

export function invalidField(field: string, message: string): ApiError {
  return invalid([{ field, message }]);
}

/** Turns zod issues into field errors; `root` names the whole input when the issue has no path. */
export function fieldErrorsOf(error: z.ZodError, root: string): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.map(String).join('.') : root,
    message: issue.message,
  }));
}
