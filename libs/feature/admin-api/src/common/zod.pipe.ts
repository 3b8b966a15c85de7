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
    const root = metadata.type === 'body' ? '(body)' : `(${metadata.type})`;
    const nul = nulPaths(input);
    if (nul.length > 0)
      throw invalid(
        nul.map((path) => ({
          field: path.length > 0 ? path.join('.') : root,
          message: 'must not contain NUL (U+0000)',
        })),
        `invalid ${metadata.type === 'body' ? 'request body' : metadata.type}`,
      );
    const result = this.schema.safeParse(input);
    if (result.success) return result.data;
    throw invalid(
      fieldErrorsOf(result.error, root),
      `invalid ${metadata.type === 'body' ? 'request body' : metadata.type}`,
    );
  }
}

/**
 * Where a NUL character is, in any string (key or value) of the input however deep: one rule for
 * every body, query and path parameter, before any schema sees it. No text column can hold it
 * (PostgreSQL refuses U+0000 in text and jsonb), and no address, domain or name has one.
 */
function nulPaths(value: unknown, path: string[] = [], depth = 0): string[][] {
  if (typeof value === 'string') return value.includes('\u0000') ? [path] : [];
  if (value === null || typeof value !== 'object' || depth > 32) return [];
  const found: string[][] = [];
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) found.push([...path, key.replaceAll('\u0000', '\\0')]);
    else found.push(...nulPaths(item, [...path, key], depth + 1));
  }
  return found;
}
