// A delivery worker that takes `count` slots of `destination` and holds them until it is killed
// (limiter.int.spec.ts kills it with SIGKILL). Run by Node itself: it strips the limiter's types.
import { Redis } from 'ioredis';
import { RedisDestinationLimiter } from '../limits/destination-limiter.ts';

const [url, prefix, destination, count] = process.argv.slice(2);
const redis = new Redis(url);
const limiter = new RedisDestinationLimiter({ redis, prefix, limit: Number(count) });
for (let i = 0; i < Number(count); i++) {
  if (!(await limiter.acquire(destination))) {
    console.log('no slot');
    process.exit(1);
  }
}
console.log('held');
setInterval(() => undefined, 60_000); // stays alive, holding, until killed
