// The `submission` service: authenticated submission on ports 587 and 465.
import { runService } from '@mta/runtime';
import { SubmissionModule } from '@mta/feature-submission';

void runService({ service: 'submission', modules: [SubmissionModule], httpListen: 'HEALTH_LISTEN' });
