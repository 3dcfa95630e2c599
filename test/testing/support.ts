import { KubeConfig } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import type { FakeCluster } from 'kube-cluster-proxy/testing';

/** A KubeConfig pointing straight at the fake, authenticating with a token or a client certificate. */
export function kubeConfigFor(fake: FakeCluster, user: { token: string } | { cert: string; key: string }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: fake.url, caData: Buffer.from(fake.ca).toString('base64'), skipTLSVerify: false }],
    users: [
      'token' in user
        ? { name: 'user', token: user.token }
        : { name: 'user', certData: Buffer.from(user.cert).toString('base64'), keyData: Buffer.from(user.key).toString('base64') },
    ],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'user' }],
    currentContext: 'fake',
  });
  return kc;
}

/** A writable that keeps what it receives, for stdout/stderr/log streams. */
export class Collector extends Writable {
  readonly chunks: Buffer[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk);
    callback();
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
