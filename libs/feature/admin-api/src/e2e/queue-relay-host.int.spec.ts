import { describe, expect, it } from 'vitest';
import { JobProducer, QueueName } from '@mta/queue';
import { seedMessage, useAdminApi } from './harness';

// With a smart host, the queue actions ask the queue manager's dispatcher, which sends every
// remote recipient to `relay:<host>` (the end-to-end proof with smtp-sink as the smart host:
// apps/all-in-one/src/smart-host-retry.e2e.spec.ts).
const api = useAdminApi({ RELAY_HOST: 'smtp.isp.example:587' });

const deliveryJob = (id: string) => api.app.get(JobProducer).queue(QueueName.Delivery).getJob(id);

describe('queue actions with RELAY_HOST', () => {
  it('retry plans the job for the smart host; a relay domain still goes to its own MX; hold withdraws them', async () => {
    const m = await seedMessage(api.db, {
      recipients: [
        { address: 'a@far.example', status: 'deferred', attempts: 1 },
        { address: 'b@backup.example', route: 'relay', status: 'deferred', attempts: 1 },
      ],
    });
    const retried = await api.request('POST', `/api/v1/messages/${m.queueId}/retry`);
    expect(retried.status).toBe(200);
    const smartHost = `delivery/${m.id}/remote/relay%3Asmtp.isp.example%3A587/2`;
    const ids = [smartHost, `delivery/${m.id}/relay/backup.example/2`];
    expect([...retried.body.enqueued].sort()).toEqual([...ids].sort());
    expect((await deliveryJob(smartHost))?.data).toMatchObject({
      route: 'remote',
      destination: 'relay:smtp.isp.example:587',
      recipientIds: [m.recipients.find((r) => r.address === 'a@far.example')?.id],
    });
    expect((await api.request('POST', `/api/v1/messages/${m.queueId}/hold`)).status).toBe(200);
    for (const id of ids) expect(await deliveryJob(id)).toBeUndefined();
  });
});
