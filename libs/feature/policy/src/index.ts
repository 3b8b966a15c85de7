export { PolicyModule } from './policy.module';
