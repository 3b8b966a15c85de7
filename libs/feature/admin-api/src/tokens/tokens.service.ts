import { Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { generateApiToken, hashApiToken, looksLikeApiToken } from '@mta/auth';
import type { AppConfig } from '@mta/config';
import { PrismaService, type ApiToken } from '@mta/db';
import { APP_CONFIG } from '@mta/runtime';
import { notFound } from '../common/errors';
import { paginate, type PageQuery } from '../common/pagination';

/** Who made a request: the bootstrap token from the environment, or a stored token. */
export type Principal = { kind: 'bootstrap' } | { kind: 'token'; id: string; name: string };

/** `lastUsedAt` is written at most this often per token, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

function view(row: ApiToken) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

@Injectable()
export class TokensService {
  private readonly bootstrapDigest?: Buffer;

  constructor(
    private readonly db: PrismaService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    if (config.ADMIN_TOKEN) this.bootstrapDigest = createHash('sha256').update(config.ADMIN_TOKEN).digest();
  }

  /** The principal a bearer token stands for, or undefined. Never throws for a bad token. */
  async authenticate(token: string): Promise<Principal | undefined> {
    if (this.bootstrapDigest) {
      // Equal-length digests, so the comparison time says nothing about the token.
      const digest = createHash('sha256').update(token).digest();
      if (timingSafeEqual(digest, this.bootstrapDigest)) return { kind: 'bootstrap' };
    }
    if (!looksLikeApiToken(token)) return undefined;
    const row = await this.db.client.apiToken.findUnique({ where: { tokenHash: hashApiToken(token) } });
    if (!row || row.revokedAt) return undefined;
    const now = Date.now();
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.db.client.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } });
    }
    return { kind: 'token', id: row.id, name: row.name };
  }

  /** Creates a token; the only time the token itself is returned. */
  async create(name: string) {
    const { token, prefix, hash } = generateApiToken();
    const row = await this.db.client.apiToken.create({ data: { name, prefix, tokenHash: hash } });
    return { ...view(row), token };
  }

  list(page: PageQuery) {
    return paginate(
      { field: 'createdAt', direction: 'desc', time: true },
      page,
      (args) => this.db.client.apiToken.findMany(args),
      view,
    );
  }

  async get(id: string) {
    const row = await this.db.client.apiToken.findUnique({ where: { id } });
    if (!row) throw notFound(`token ${id}`);
    return view(row);
  }

  /** Revokes a token: it stops working at once; the row stays for the record. */
  async revoke(id: string): Promise<void> {
    const row = await this.db.client.apiToken.findUnique({ where: { id } });
    if (!row) throw notFound(`token ${id}`);
    if (!row.revokedAt)
      await this.db.client.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
  }
}
