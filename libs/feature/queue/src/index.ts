export { QueueManagerModule } from './queue.module';
