export { SubmissionModule } from './submission.module';
