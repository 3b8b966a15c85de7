import { SetMetadata } from '@nestjs/common';
import type { z } from 'zod';

export const API_DOC = Symbol('API_DOC');
export const API_TAG = Symbol('API_TAG');

/**
 * What the OpenAPI document says about one route. The schemas are the same zod schemas the
 * route validates with, so the document cannot drift from the validation.
 */
export interface RouteDoc {
  summary: string;
  description?: string;
  /** Descriptions of the path parameters (`:name` in the route). */
  params?: Record<string, string>;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Success status, 200 by default. */
  status?: number;
  /** Further success statuses with their meaning, e.g. `{ 204: 'Deleted.' }`. */
  otherStatuses?: Record<number, string>;
  /** JSON schema of the success response; omitted for 204. */
  response?: z.ZodType;
  /** A non-JSON success response, e.g. `message/rfc822`. */
  produces?: string;
  /** Error statuses this route can answer besides 401 (every protected route) and 500. */
  errors?: number[];
  /** Served without a token. */
  public?: boolean;
}

/** Documents a route in /api/openapi.json. Only documented routes appear there. */
export const ApiDoc = (doc: RouteDoc) => SetMetadata(API_DOC, doc);

/** The OpenAPI tag (group) of a controller's routes. */
export const ApiTag = (name: string, description?: string) => SetMetadata(API_TAG, { name, description });
