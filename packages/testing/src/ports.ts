import { createServer } from 'node:net';

/** The loopback address every fixture binds to. */
export const LOOPBACK = '127.0.0.1';

/**
 * Asks the OS for a free TCP port on the loopback interface: listens on port 0, reads the port
 * it was given and closes again. Another process can take the port before it is used, so callers
 * retry on bind failure.
 */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('the OS did not report a TCP port'));
        return;
      }
      server.close((error) => (error ? reject(error) : resolvePort(address.port)));
    });
  });
}

/** `count` distinct free loopback ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
