import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest } from './auth.guard';

/** Who made the request, as recorded in event rows: `bootstrap` or `token:<name>`. */
export const Actor = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) return 'unknown';
  return principal.kind === 'bootstrap' ? 'bootstrap' : `token:${principal.name}`;
});
