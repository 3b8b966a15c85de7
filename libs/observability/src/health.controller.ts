import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Metrics } from './metrics';
import { Readiness } from './readiness';

/**
 * `/healthz`: the process is alive (Kubernetes liveness). `/readyz`: every registered
 * dependency answers (readiness: 200, otherwise 503 with what failed). `/metrics`: Prometheus.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: Readiness,
    private readonly metrics: Metrics,
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
  async metricsText(@Res() res: Response) {
    const { contentType, body } = await this.metrics.render();
    res.setHeader('Content-Type', contentType);
    res.send(body);
  }
}
