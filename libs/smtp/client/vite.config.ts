// The shared Vitest config lives in tools/ (not a project), as for every other lib.
import { projectConfig } from '../../../tools/vitest.project';

export default projectConfig(__dirname, 'smtp-client');
