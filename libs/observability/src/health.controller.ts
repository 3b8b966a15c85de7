import { createHash, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Metrics } from './metrics';
import { METRICS_TOKEN } from './metrics-token';
import { Readiness } from './readiness';

/**
 * `/healthz`: the process is alive (Kubernetes liveness). `/readyz`: every registered
 * dependency answers (readiness: 200, otherwise 503 with what failed). `/metrics`: Prometheus,
 * behind `Authorization: Bearer <METRICS_TOKEN>` when that is set (401 otherwise, RFC 6750 §3);
 * the probes stay open.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: Readiness,
    private readonly metrics: Metrics,
    @Inject(METRICS_TOKEN) private readonly metricsToken: string | null,
  ) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res() res: Response) {
    const report = await this.readiness.report();
    res
      .status(report.ready ? 200 : 503)
      .json({ status: report.ready ? 'ready' : 'unavailable', checks: report.checks });
  }

  @Get('metrics')
  async metricsText(@Headers('authorization') authorization: string | undefined, @Res() res: Response) {
    if (this.metricsToken !== null && !bearerMatches(authorization, this.metricsToken)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      res
        .status(401)
        .json({ error: { status: 401, code: 'unauthorized', message: 'a valid bearer token is required' } });
      return;
    }
    const { contentType, body } = await this.metrics.render();
    res.setHeader('Content-Type', contentType);
    res.send(body);
  }
}

/** Compares in constant time (SHA-256 first, so the lengths match too). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (\S+)$/i.exec(header ?? '')?.[1];
  if (given === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}
