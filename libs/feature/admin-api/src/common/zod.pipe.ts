import { type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { fieldErrorsOf, invalid } from './errors';

/**
 * Validates a request body, query or path parameters against a zod schema and returns the
 * parsed value; a mismatch answers 400 naming every bad field.
 *
 *   create(@Body(new ZodPipe(CreateDomain)) body: CreateDomain)
 */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown, metadata: ArgumentMetadata): z.output<S> {
    const input = metadata.type === 'query' ? (value ?? {}) : value;
    const result = this.schema.safeParse(input);
    if (result.success) return result.data;
    const root = metadata.type === 'body' ? '(body)' : `(${metadata.type})`;
    throw invalid(
      fieldErrorsOf(result.error, root),
      `invalid ${metadata.type === 'body' ? 'request body' : metadata.type}`,
    );
  }
}
