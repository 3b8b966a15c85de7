// The `queue` service: the queue manager: routing, retries, bounces, expiry.
import { runService } from '@mta/runtime';
import { QueueManagerModule } from '@mta/feature-queue';

void runService({ service: 'queue', modules: [QueueManagerModule], httpListen: 'HEALTH_LISTEN' });
