export { MxModule } from './mx.module';
