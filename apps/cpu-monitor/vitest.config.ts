import { streamkitVitestConfig } from '@streamkit/testing/vitest';

export default streamkitVitestConfig();
