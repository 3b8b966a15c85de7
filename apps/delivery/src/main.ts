// The `delivery` service: outbound delivery workers: MX lookup, SMTP client, local delivery.
import { runService } from '@mta/runtime';
import { DeliveryModule } from '@mta/feature-delivery';

void runService({ service: 'delivery', modules: [DeliveryModule], httpListen: 'HEALTH_LISTEN' });
