// The orders HTTP API: `REDIS_URL=redis://127.0.0.1:6379 PORT=3000 npm start`.
import { createOrdersHttpServer } from './http.js';
import { createOrderService } from './service.js';

const service = createOrderService({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
await service.start();
const server = createOrdersHttpServer(service);
const port = Number(process.env.PORT ?? 3000);
server.listen(port, () => process.stdout.write(`orders API on http://localhost:${port}\n`));

const shutdown = () => {
  server.close();
  void service.close().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
