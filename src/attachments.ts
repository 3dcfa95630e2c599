import type { IncomingMessage, Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { isUnderMount, routeNotFound } from './pipeline/route.ts';
import { writeStatusToSocket } from './status.ts';

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * The servers whose upgrades the proxy takes (`proxy.attach(server)`): only those under the mount
 * path; every other upgrade is left to the server's other listeners.
 */
export function createAttachments(mountPrefix: string, mountPath: string, upgrade: UpgradeListener) {
  const attached = new Map<Server | HttpsServer, UpgradeListener>();
  return {
    /** Takes the upgrades under the mount path on `server`; attaching twice has no effect. */
    attach: (server: Server | HttpsServer): void => {
      if (attached.has(server)) return;
      const listener: UpgradeListener = (req, socket, head) => {
        if (isUnderMount(req.url ?? '/', mountPrefix)) upgrade(req, socket, head);
        // Nobody else will answer: with a listener, Node no longer closes unclaimed upgrades itself.
        else if (server.listenerCount('upgrade') === 1) writeStatusToSocket(socket, routeNotFound(mountPath));
      };
      attached.set(server, listener);
      server.on('upgrade', listener);
    },
    /** Stops taking upgrades on every attached server. */
    detachAll: (): void => {
      for (const [server, listener] of attached) server.off('upgrade', listener);
      attached.clear();
    },
  };
}
