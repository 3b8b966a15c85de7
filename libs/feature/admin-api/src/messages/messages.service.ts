import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { once } from 'node:events';
import { PrismaService, type Prisma } from '@mta/db';
import { notFound } from '../common/errors';
import { paginate } from '../common/pagination';
import { MAX_HEADER_BYTES, parseHeaders } from './message-headers';
import { AuthResultsView, type ListMessagesQuery } from './messages.schemas';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A message's unique key from a path parameter: its UUID or its queue id. */
export function messageKey(id: string): Prisma.MessageWhereUniqueInput {
  return UUID.test(id) ? { id: id.toLowerCase() } : { queueId: id.toUpperCase() };
}

export const SUMMARY_SELECT = {
  id: true,
  queueId: true,
  sender: true,
  source: true,
  state: true,
  size: true,
  receivedAt: true,
  subject: true,
  fromHeader: true,
  messageIdHeader: true,
  recipients: { select: { address: true, status: true }, orderBy: { address: 'asc' }, take: 100 },
  _count: { select: { recipients: true } },
} as const satisfies Prisma.MessageSelect;

type SummaryRow = Prisma.MessageGetPayload<{ select: typeof SUMMARY_SELECT }>;

export function summaryView(row: SummaryRow) {
  return {
    id: row.id,
    queueId: row.queueId,
    sender: row.sender,
    source: row.source,
    state: row.state,
    size: row.size,
    receivedAt: row.receivedAt,
    subject: row.subject,
    from: row.fromHeader,
    messageIdHeader: row.messageIdHeader,
    recipientCount: row._count.recipients,
    recipients: row.recipients,
  };
}

/** Chunks are read this many at a time when streaming a message out. */
const CHUNK_BATCH = 16;

@Injectable()
export class MessagesService {
  constructor(private readonly db: PrismaService) {}

  list(query: ListMessagesQuery) {
    const recipient: Prisma.RecipientWhereInput = {
      ...(query.status ? { status: query.status } : {}),
      ...(query.recipient ? { address: query.recipient } : {}),
      ...(query.domain ? { domain: query.domain.toLowerCase() } : {}),
    };
    const where: Prisma.MessageWhereInput = {
      ...(query.sender !== undefined ? { sender: query.sender === '<>' ? '' : query.sender } : {}),
      ...(Object.keys(recipient).length > 0 ? { recipients: { some: recipient } } : {}),
      ...(query.since || query.until
        ? {
            receivedAt: {
              ...(query.since ? { gte: new Date(query.since) } : {}),
              ...(query.until ? { lt: new Date(query.until) } : {}),
            },
          }
        : {}),
    };
    return paginate(
      { field: 'receivedAt', direction: 'desc', time: true },
      query,
      (args) =>
        this.db.client.message.findMany({
          ...args,
          where: { AND: [where, args.where] },
          select: SUMMARY_SELECT,
        }),
      summaryView,
    );
  }

  async summary(id: string) {
    const row = await this.db.client.message.findUnique({ where: messageKey(id), select: SUMMARY_SELECT });
    if (!row) throw notFound(`message ${id}`);
    return summaryView(row);
  }

  async get(id: string) {
    const row = await this.db.client.message.findUnique({
      where: messageKey(id),
      select: {
        ...SUMMARY_SELECT,
        clientAddress: true,
        clientHostname: true,
        clientHelo: true,
        authUser: true,
        dsnRet: true,
        dsnEnvid: true,
        smtpUtf8: true,
        eightBitMime: true,
        authResults: true,
        quarantine: true,
        recipients: { orderBy: { address: 'asc' } },
        deliveryAttempts: {
          orderBy: { startedAt: 'asc' },
          include: { recipient: { select: { address: true } } },
        },
      },
    });
    if (!row) throw notFound(`message ${id}`);
    const reply = (code: number | null, enhanced: string | null, text: string | null) => ({
      code,
      enhanced,
      text,
    });
    return {
      ...summaryView({ ...row, recipients: [] }),
      recipients: row.recipients.map((r) => ({
        id: r.id,
        address: r.address,
        domain: r.domain,
        route: r.route,
        status: r.status,
        attempts: r.attempts,
        nextAttemptAt: r.nextAttemptAt,
        lastAttemptAt: r.lastAttemptAt,
        lastReply:
          r.lastReplyCode === null && r.lastReplyText === null
            ? null
            : reply(r.lastReplyCode, r.lastEnhancedCode, r.lastReplyText),
      })),
      client: {
        address: row.clientAddress,
        hostname: row.clientHostname,
        helo: row.clientHelo,
        authUser: row.authUser,
      },
      dsn: { ret: row.dsnRet, envid: row.dsnEnvid },
      smtpUtf8: row.smtpUtf8,
      eightBitMime: row.eightBitMime,
      authentication: row.authResults === null ? null : AuthResultsView.parse(row.authResults),
      quarantine: row.quarantine,
      headers: parseHeaders(await this.head(row.id)),
      attempts: row.deliveryAttempts.map((a) => ({
        id: a.id,
        recipient: a.recipient.address,
        startedAt: a.startedAt,
        finishedAt: a.finishedAt,
        mxHost: a.mxHost,
        ip: a.ip,
        port: a.port,
        reply: reply(a.replyCode, a.enhancedCode, a.replyText),
        tls: a.tlsVersion ? { version: a.tlsVersion, cipher: a.tlsCipher, verified: a.tlsVerified } : null,
        tlsPolicy: a.tlsPolicy,
      })),
    };
  }

  /** The start of a message, up to its empty line (or MAX_HEADER_BYTES). */
  private async head(messageId: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    let length = 0;
    for await (const chunk of this.chunks(messageId)) {
      parts.push(chunk);
      length += chunk.length;
      if (length >= MAX_HEADER_BYTES || Buffer.concat(parts).includes('\r\n\r\n')) break;
    }
    return Buffer.concat(parts).subarray(0, MAX_HEADER_BYTES);
  }

  private async *chunks(messageId: string): AsyncGenerator<Buffer> {
    let after = -1;
    for (;;) {
      const rows = await this.db.client.messageChunk.findMany({
        where: { messageId, seq: { gt: after } },
        orderBy: { seq: 'asc' },
        take: CHUNK_BATCH,
      });
      for (const row of rows) yield Buffer.from(row.data);
      if (rows.length < CHUNK_BATCH) return;
      after = rows[rows.length - 1].seq;
    }
  }

  /** Streams the stored message, byte exact, as `message/rfc822`. */
  async raw(id: string, res: Response): Promise<void> {
    const row = await this.db.client.message.findUnique({
      where: messageKey(id),
      select: { id: true, queueId: true, size: true },
    });
    if (!row) throw notFound(`message ${id}`);
    res.status(200);
    res.setHeader('Content-Type', 'message/rfc822');
    res.setHeader('Content-Disposition', `attachment; filename="${row.queueId}.eml"`);
    for await (const chunk of this.chunks(row.id)) {
      if (!res.write(chunk)) await once(res, 'drain');
    }
    res.end();
  }
}
