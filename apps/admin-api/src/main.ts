// The `admin-api` service: the REST API to administer the MTA.
import { runService } from '@mta/runtime';
import { AdminApiModule } from '@mta/feature-admin-api';

void runService({ service: 'admin-api', modules: [AdminApiModule], httpListen: 'ADMIN_LISTEN' });
