// The `mx` service: inbound relay on port 25 for the domains we host.
import { runService } from '@mta/runtime';
import { MxModule } from '@mta/feature-mx';

void runService({ service: 'mx', modules: [MxModule], httpListen: 'HEALTH_LISTEN' });
