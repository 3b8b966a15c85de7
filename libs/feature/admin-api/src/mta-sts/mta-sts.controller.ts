import { Controller, Get, Headers, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DomainsService } from '../domains/domains.service';

/**
 * The MTA-STS policy host of our local domains (RFC 8461 §3.3): a GET of
 * `/.well-known/mta-sts.txt` with `Host: mta-sts.<domain>` answers the domain's policy as
 * `text/plain`, without authentication (senders fetch it). Any other host gets 404. HTTPS is
 * the operator's ingress in front of this port (a certificate for `mta-sts.<domain>`); the
 * policy text comes from the domain's MTA-STS settings, so it and the id in the TXT record
 * (`GET /api/v1/domains/:name/dns`) change together.
 */
@Controller('.well-known')
export class MtaStsController {
  constructor(private readonly domains: DomainsService) {}

  @Get('mta-sts.txt')
  async policy(@Headers('host') host: string | undefined, @Res() res: Response): Promise<void> {
    const text = host ? await this.domains.publishedPolicy(host) : null;
    if (text === null) {
      res.status(404).type('text/plain').send('no MTA-STS policy for this host\n');
      return;
    }
    // §3.3: senders must not use HTTP caching; tell any cache in between the same.
    res.status(200).type('text/plain').setHeader('Cache-Control', 'no-store').send(text);
  }
}
