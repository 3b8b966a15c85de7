// `all-in-one`: the whole MTA on one machine (`npm start`, the image's default command).
// By default it supervises one process per service, like Postfix's master (supervise.ts), so
// that every core works; ALL_IN_ONE_MODE=single runs every module in this one process instead.
import { AdminApiModule } from '@mta/feature-admin-api';
import { DeliveryModule } from '@mta/feature-delivery';
import { MxModule } from '@mta/feature-mx';
import { PolicyModule } from '@mta/feature-policy';
import { QueueManagerModule } from '@mta/feature-queue';
import { SubmissionModule } from '@mta/feature-submission';
import { runService } from '@mta/runtime';
import { superviseServices } from './supervise';

if (process.argv.includes('--check-config') || process.env['ALL_IN_ONE_MODE'] === 'single') {
  void runService({
    service: 'all-in-one',
    modules: [MxModule, SubmissionModule, QueueManagerModule, DeliveryModule, PolicyModule, AdminApiModule],
    httpListen: 'ADMIN_LISTEN',
  });
} else {
  void superviseServices(__dirname);
}
