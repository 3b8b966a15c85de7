import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { TokensService, type Principal } from '../tokens/tokens.service';
import { ApiError } from './errors';

export interface AuthenticatedRequest extends Request {
  principal?: Principal;
}

/**
 * `Authorization: Bearer <token>` on every `/api/v1` route: the bootstrap ADMIN_TOKEN or a
 * stored, unrevoked API token. Otherwise 401 before the handler runs, so nothing changes.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(private readonly tokens: TokensService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = /^Bearer[ \t]+([\x21-\x7e]{1,512})[ \t]*$/i.exec(request.headers.authorization ?? '');
    if (!match)
      throw new ApiError(401, 'unauthorized', 'an Authorization: Bearer <token> header is required');
    const principal = await this.tokens.authenticate(match[1]);
    if (!principal) throw new ApiError(401, 'unauthorized', 'the bearer token is not valid');
    request.principal = principal;
    return true;
  }
}
