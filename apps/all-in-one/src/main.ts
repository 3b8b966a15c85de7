// Every module of the MTA in one process: the default for one machine and for end-to-end tests.
import { AdminApiModule } from '@mta/feature-admin-api';
import { DeliveryModule } from '@mta/feature-delivery';
import { MxModule } from '@mta/feature-mx';
import { PolicyModule } from '@mta/feature-policy';
import { QueueManagerModule } from '@mta/feature-queue';
import { SubmissionModule } from '@mta/feature-submission';
import { runService } from '@mta/runtime';

void runService({
  service: 'all-in-one',
  modules: [MxModule, SubmissionModule, QueueManagerModule, DeliveryModule, PolicyModule, AdminApiModule],
  httpListen: 'ADMIN_LISTEN',
});
