import { createSocket } from 'node:dgram';

/**
 * The address of this host on the route to `host`: what a joined worker binds so that its
 * peers reach it. A UDP socket's connect() only picks the route (no packet is sent).
 */
export function localAddressTowards(host: string): Promise<string> {
  const target = host.replace(/^\[|\]$/g, '');
  const socket = createSocket(target.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.connect(9, target, () => {
      const { address } = socket.address();
      socket.close();
      resolve(target.includes(':') ? `[${address}]` : address);
    });
  });
}
