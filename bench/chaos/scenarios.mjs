// The faults of issue 17, each injected once the load is a third through (and, where it has an
// end, undone by the same function). `drainSeconds`: how long after the load the run waits for every
// accepted message to reach the sink before it counts the rest as stuck or lost.
import { sleep } from '../lib/processes.mjs';

/** The first retry after a 4xx is 5 minutes (±10 %) by default (libs/queue-manager schedule.ts). */
const AFTER_FIRST_RETRY = 420;

const killService = (app) => ({
  name: `kill-${app}`,
  what: `kill -9 of ${app} under load, started again at once`,
  fault: (stack) => stack.killAndRestart(app),
});

export const SCENARIOS = [
  { name: 'baseline', what: 'no fault', fault: async () => {} },
  killService('mx'),
  killService('queue'),
  killService('delivery'),
  {
    name: 'redis-flush',
    what: 'FLUSHALL on the Redis under load',
    fault: (stack) => stack.redis.command('FLUSHALL'),
  },
  {
    name: 'redis-kill-empty',
    what: 'redis-server killed -9 under load, started again empty (AOF removed)',
    fault: async (stack) => {
      await stack.redis.kill();
      await stack.redis.start({ empty: true });
    },
  },
  {
    name: 'postgres-cut',
    what: 'every PostgreSQL connection cut and new ones refused (TCP proxy) for 5 s',
    fault: async (stack) => {
      await stack.pgProxy.stop();
      await sleep(5000);
      await stack.pgProxy.start();
    },
  },
  {
    name: 'sink-4xx',
    // Restarting the sink also refuses connections for a moment: deferred too, as they would be.
    what: 'the sink answers 4xx to DATA for 10 s (smtp-sink -r DATA)',
    drainSeconds: AFTER_FIRST_RETRY,
    fault: async (stack) => {
      await stack.restartSink(['-r', 'DATA']);
      await sleep(10_000);
      await stack.restartSink();
    },
  },
  {
    name: 'sink-slow',
    what: 'the sink waits 2 s before answering each DATA, all along (smtp-sink -w 2)',
    sinkFaults: ['-w', '2'],
    fault: async () => {},
  },
];
