// Every entry point imports this module first, so that it is evaluated before anything that needs
// a newer Node (ESM evaluates a module's imports in order, depth first). It must import nothing:
// a named import that Node lacks fails the whole graph at link time, before any code runs.

/** The oldest Node line the package runs on; `getCACertificates()` of `node:tls` came in 22.15 (and 23.10). */
export const MINIMUM_NODE_VERSION = '22.15';

/**
 * The error message for a Node version (`process.versions.node`, e.g. `'20.19.5'`) the package does
 * not run on, or `undefined` when it does.
 */
export function unsupportedNodeMessage(version: string): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const supported = major > 23 || (major === 23 && minor >= 10) || (major === 22 && minor >= 15);
  if (supported) return undefined;
  return `kube-cluster-proxy requires Node.js >= ${MINIMUM_NODE_VERSION}; this is Node.js ${version}. Upgrade Node (the current LTS works).`;
}

const message = unsupportedNodeMessage(process.versions.node);
if (message !== undefined) throw new Error(message);
