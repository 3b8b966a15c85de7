import { projectConfig } from '../tools/vitest.project';

// The manifest checks live in test/ (k8s/ holds the manifests themselves).
const config = projectConfig(__dirname, 'k8s');
export default { ...config, test: { ...config.test, include: ['test/**/*.spec.ts'] } };
