// The `policy` service: policy answers: relay rights, rate limits, SPF/DKIM/DMARC, DKIM signing.
import { runService } from '@mta/runtime';
import { PolicyModule } from '@mta/feature-policy';

void runService({ service: 'policy', modules: [PolicyModule], httpListen: 'HEALTH_LISTEN' });
