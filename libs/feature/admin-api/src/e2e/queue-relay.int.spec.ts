import { describe, expect, it } from 'vitest';
import { JobProducer, QueueName } from '@mta/queue';
import { seedMessage, useAdminApi } from './harness';

const RELAY_HOST = '[192.0.2.25]:2525';
const api = useAdminApi({ RELAY_HOST });

const deliveryJob = (id: string) => api.app.get(JobProducer).queue(QueueName.Delivery).getJob(id);

describe('queue actions with a smart host (RELAY_HOST)', () => {
  it('retry, hold and release address the smart host job, as the queue manager does, never the MX', async () => {
    const m = await seedMessage(api.db, {
      recipients: [
        { address: 'a@remote.example', status: 'deferred', attempts: 1 },
        { address: 'b@relayed.example', route: 'relay', status: 'deferred', attempts: 1 },
      ],
    });
    const retried = await api.request('POST', `/api/v1/messages/${m.queueId}/retry`);
    expect(retried.status).toBe(200);
    const [relayJob, domainJob] = retried.body.enqueued as string[];
    expect((await deliveryJob(String(relayJob)))?.data).toMatchObject({
      route: 'remote',
      destination: `relay:${RELAY_HOST}`,
      attempt: 2,
    });
    // A relay domain's mail goes to that domain's own MX, smart host or not.
    expect((await deliveryJob(String(domainJob)))?.data).toMatchObject({
      route: 'relay',
      destination: 'relayed.example',
    });

    expect((await api.request('POST', `/api/v1/messages/${m.queueId}/hold`)).status).toBe(200);
    expect(await deliveryJob(String(relayJob))).toBeUndefined();
    const released = await api.request('POST', `/api/v1/messages/${m.queueId}/release`);
    expect(released.body.enqueued).toEqual([relayJob, domainJob]);
  });
});
