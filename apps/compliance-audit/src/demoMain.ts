// `npm run demo --workspace apps/compliance-audit` (REDIS_URL, default redis://127.0.0.1:6379)
import { runDemo } from './demo.js';

const result = await runDemo({ redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
process.exitCode = result.clean.ok && !result.tampered.ok ? 0 : 1;
