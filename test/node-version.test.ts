import { describe, expect, it } from 'vitest';
import { MINIMUM_NODE_VERSION, unsupportedNodeMessage } from '../src/node-version.ts';

describe('unsupportedNodeMessage', () => {
  it.each(['22.15.0', '22.21.1', '23.10.0', '24.0.0', '25.1.0'])('accepts %s', (version) => {
    expect(unsupportedNodeMessage(version)).toBeUndefined();
  });

  it.each(['20.19.5', '22.14.0', '22.12.0', '23.9.0', '18.20.8'])('refuses %s, naming the version required and the one found', (version) => {
    expect(unsupportedNodeMessage(version)).toBe(
      `kube-cluster-proxy requires Node.js >= 22.15; this is Node.js ${version}. Upgrade Node (the current LTS works).`,
    );
  });

  it('refuses a version it cannot read rather than guessing', () => {
    expect(unsupportedNodeMessage('')).toContain('requires Node.js >= 22.15');
    expect(unsupportedNodeMessage('next')).toContain('requires Node.js >= 22.15');
  });

  it('matches the engines field of package.json', async () => {
    const manifest = (await import('../package.json', { with: { type: 'json' } })).default as { engines: { node: string } };
    expect(manifest.engines.node).toBe(`>=${MINIMUM_NODE_VERSION}`);
  });
});
