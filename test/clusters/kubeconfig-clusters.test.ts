import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeconfigError, kubeconfigClusters, defaultKubeconfigPaths, type ClusterConfig, type ClusterResolverEvent } from 'kube-cluster-proxy';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/kubeconfig');
const fixture = (name: string) => join(FIXTURES, name);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kcp-kubeconfig-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

function errorsOf(resolver: ReturnType<typeof kubeconfigClusters>): Error[] {
  const errors: Error[] = [];
  resolver.subscribe?.((e: ClusterResolverEvent) => {
    if (e.type === 'error') errors.push(e.error);
  })();
  return errors;
}

describe('kubeconfigClusters: real-world shapes', () => {
  it('EKS: an exec plugin (v1beta1, aws eks get-token), renamed from its ARN', async () => {
    const resolver = kubeconfigClusters({ paths: [fixture('eks.yaml')], watch: false, rename: { 'arn:aws:eks:eu-west-1:123456789012:cluster/prod': 'prod' } });
    const prod = (await resolver.resolve('prod'))!;
    expect(prod.server).toBe('https://ABCDEF0123456789.gr7.eu-west-1.eks.amazonaws.com');
    expect(prod.authMode).toBe('cluster');
    expect(prod.credentials).toEqual({
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        command: 'aws',
        args: ['--region', 'eu-west-1', 'eks', 'get-token', '--cluster-name', 'prod', '--output', 'json'],
        env: [{ name: 'AWS_PROFILE', value: 'platform' }],
      },
    });
    expect(prod.ca?.toString()).toContain('-----BEGIN CERTIFICATE-----');
    expect(prod.context).toMatchObject({ namespace: 'payments', user: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod' });
  });

  it('EKS without rename: the ARN cannot be a path segment, and the error says to rename it', async () => {
    const resolver = kubeconfigClusters({ paths: [fixture('eks.yaml')], watch: false });
    expect(await resolver.list()).toEqual([]);
    const [error] = errorsOf(resolver);
    expect(error).toBeInstanceOf(KubeconfigError);
    expect(error!.message).toMatch(/context "arn:aws:eks:.*cluster\/prod" cannot be a cluster name .* rename option/);
  });

  it('GKE: provideClusterInfo and installHint', async () => {
    const gke = (await kubeconfigClusters({ paths: [fixture('gke.yaml')], watch: false }).resolve('gke_my-project_europe-west1_staging'))!;
    expect(gke.credentials).toMatchObject({ exec: { command: 'gke-gcloud-auth-plugin', provideClusterInfo: true, installHint: expect.stringContaining('Install gke-gcloud-auth-plugin') } });
  });

  it('AKS: kubelogin get-token with client.authentication.k8s.io/v1', async () => {
    const aks = (await kubeconfigClusters({ paths: [fixture('aks.yaml')], watch: false }).resolve('aks-dev'))!;
    expect(aks.credentials).toMatchObject({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'kubelogin', interactiveMode: 'IfAvailable' } });
    expect(aks.credentials).toMatchObject({ exec: { args: expect.arrayContaining(["get-token", "--login", "azurecli"]) } });
  });

  it('Rancher: a server with a path and a token', async () => {
    const r = (await kubeconfigClusters({ paths: [fixture('rancher.yaml')], watch: false }).resolve('downstream'))!;
    expect(r.server).toBe('https://rancher.example.com/k8s/clusters/c-m-abcd1234');
    expect(r.credentials).toEqual({ token: expect.stringMatching(/^kubeconfig-user-abcde:/) });
  });

  it('OIDC auth-provider without tokens, client certificate files relative to the kubeconfig, impersonation', async () => {
    const resolver = kubeconfigClusters({ paths: [fixture('oidc.yaml')], watch: false });
    const oidc = (await resolver.resolve('corp-oidc'))!;
    expect(oidc.credentials).toEqual({
      oidc: { issuerUrl: 'https://login.corp.example/realms/k8s', clientId: 'kubernetes', clientSecret: 'not-a-real-secret' },
    });
    expect(oidc.tlsServerName).toBe('kubernetes.corp.internal');
    expect(oidc.ca?.toString()).toContain('BEGIN CERTIFICATE');
    expect(oidc.context).toMatchObject({ namespace: 'team-a', user: 'oidc-user', cluster: 'corp' });
    const admin = (await resolver.resolve('corp-admin'))!;
    expect(admin.credentials).toMatchObject({ clientCertificate: expect.any(Buffer), clientKey: expect.any(Buffer) });
    expect(admin.impersonate).toEqual({ user: 'jane', groups: ['developers', 'viewers'] });
  });

  it('token file: resolved against the kubeconfig folder, winning over token', async () => {
    const kind = (await kubeconfigClusters({ paths: [fixture('token-file.yaml')], watch: false }).resolve('kind-robot'))!;
    expect(kind.credentials).toEqual({ tokenFile: join(FIXTURES, 'secrets/robot-token') });
    expect(kind.insecureSkipTLSVerify).toBe(true);
  });

  it('authMode: the option for contexts with credentials, user for those without, and per-context overrides', async () => {
    const path = await file(
      'modes.yaml',
      `clusters: [{ name: c, cluster: { server: "https://c" } }]
users: [{ name: u, user: { token: t } }]
contexts:
- { name: with-creds, context: { cluster: c, user: u } }
- { name: no-creds, context: { cluster: c } }
- { name: override, context: { cluster: c, user: u } }
`,
    );
    const resolver = kubeconfigClusters({ paths: [path], watch: false, authMode: 'user-then-cluster', contexts: { override: { authMode: 'user' } } });
    expect((await resolver.resolve('with-creds'))!.authMode).toBe('user-then-cluster');
    expect((await resolver.resolve('no-creds'))!.authMode).toBe('user');
    expect((await resolver.resolve('override'))!.authMode).toBe('user');
  });

  it('http2: the option for every context, per-context overrides, validated', async () => {
    const path = await file(
      'http2.yaml',
      `clusters: [{ name: c, cluster: { server: "https://c" } }]
contexts:
- { name: a, context: { cluster: c } }
- { name: b, context: { cluster: c } }
`,
    );
    const off = kubeconfigClusters({ paths: [path], watch: false });
    expect((await off.resolve('a'))!.http2).toBeUndefined();
    const on = kubeconfigClusters({ paths: [path], watch: false, http2: true, contexts: { b: { http2: false } } });
    expect((await on.resolve('a'))!.http2).toBe(true);
    expect((await on.resolve('b'))!.http2).toBeUndefined();
    const one = kubeconfigClusters({ paths: [path], watch: false, contexts: { b: { http2: true } } });
    expect([(await one.resolve('a'))!.http2, (await one.resolve('b'))!.http2]).toEqual([undefined, true]);
    expect(() => kubeconfigClusters({ paths: [path], watch: false, http2: 'yes' as never })).toThrow(/kubeconfigClusters: http2 must be a boolean; got "yes"/);
    expect(() => kubeconfigClusters({ paths: [path], watch: false, contexts: { a: { http2: 1 as never } } })).toThrow(/contexts\["a"\]\.http2 must be a boolean/);
    expect(() => kubeconfigClusters({ paths: [path], watch: false, contexts: { a: { htp2: true } as never } })).toThrow(/unknown option "htp2"/);
  });
});

describe('kubeconfigClusters: files', () => {
  it('merges KUBECONFIG files, the first file winning a name', async () => {
    const a = await file('a.yaml', `clusters: [{ name: shared, cluster: { server: "https://first" } }]
contexts: [{ name: one, context: { cluster: shared } }, { name: both, context: { cluster: shared } }]
`);
    const b = await file('b.yaml', `clusters: [{ name: shared, cluster: { server: "https://second" } }, { name: own, cluster: { server: "https://own" } }]
contexts: [{ name: two, context: { cluster: own } }, { name: both, context: { cluster: own } }]
current-context: two
`);
    const resolver = kubeconfigClusters({ paths: [a, join(dir, 'missing.yaml'), b], watch: false });
    const names = (await resolver.list()).map((c: ClusterConfig) => c.name).sort();
    expect(names).toEqual(['both', 'one', 'two']);
    expect((await resolver.resolve('both'))!.server).toBe('https://first');
    expect((await resolver.resolve('two'))!.server).toBe('https://own');
    expect(errorsOf(resolver)).toEqual([]);
  });

  it('reads KUBECONFIG, else ~/.kube/config', () => {
    expect(defaultKubeconfigPaths({ KUBECONFIG: '/a:/b' })).toEqual(['/a', '/b']);
    expect(defaultKubeconfigPaths({})[0]).toMatch(/\.kube\/config$/);
  });

  it('include, exclude and a rename function', async () => {
    const path = await file('many.yaml', `clusters: [{ name: c, cluster: { server: "https://c" } }]
contexts: [{ name: dev-a, context: { cluster: c } }, { name: dev-b, context: { cluster: c } }, { name: prod, context: { cluster: c } }]
`);
    const resolver = kubeconfigClusters({ paths: [path], watch: false, include: [/^dev-/, 'prod'], exclude: ['dev-b'], rename: (n) => n.toUpperCase() });
    expect((await resolver.list()).map((c: ClusterConfig) => c.name)).toEqual(['DEV-A', 'PROD']);
  });

  it('reports when no file exists at all', () => {
    const errors = errorsOf(kubeconfigClusters({ paths: [join(dir, 'nope.yaml')], watch: false }));
    expect(errors.map((e) => e.message)).toEqual([`no kubeconfig file exists: ${join(dir, 'nope.yaml')}`]);
  });
});

const CLUSTER = 'clusters: [{ name: c, cluster: { server: "https://c.example:6443" } }]\n';
const withUser = (user: string) => `${CLUSTER}users: [{ name: u, user: ${user} }]\ncontexts: [{ name: ctx, context: { cluster: c, user: u } }]\n`;

/** [what, file text, expected message] — whole-file problems throw at construction. */
const brokenFiles: [string, string, RegExp][] = [
  ['invalid YAML', 'clusters: [\n  - name: x\n', /invalid YAML at line \d+/],
  ['duplicate keys', 'kind: Config\nkind: Config\n', /invalid YAML at line 2, column 1: Map keys must be unique$/],
  ['a document that is a list', '- a\n- b\n', /the document must be a mapping/],
  ['a wrong kind', 'kind: Pod\n', /kind must be Config/],
  ['clusters not a list', 'clusters: {}\n', /clusters must be a list/],
  ['a context entry that is a string', 'contexts: [ "x" ]\n', /contexts\[0\] must be a mapping/],
  ['an entry without a name', 'users: [{ user: {} }]\n', /users\[0\]\.name must be a non-empty string/],
  ['a context body that is a list', 'contexts: [{ name: x, context: [] }]\n', /contexts\[0\]\.context must be a mapping/],
  ['a duplicate name in one file', `${CLUSTER}clusters2: 1\nusers: [{ name: u, user: {} }, { name: u, user: {} }]\n`, /users\[1\]\.name "u" is defined twice/],
  ['current-context not a string', 'current-context: [a]\n', /current-context must be a string/],
];

/** [what, file text, expected message] — context problems: only that context is broken. */
const brokenContexts: [string, string, RegExp, object?][] = [
  ['a context without cluster', 'contexts: [{ name: ctx, context: { user: u } }]\n', /context "ctx": contexts\[0\]\.context\.cluster is required/],
  ['an undefined cluster', 'contexts: [{ name: ctx, context: { cluster: nope } }]\n', /refers to cluster "nope", which no kubeconfig file defines/],
  ['an undefined user', `${CLUSTER}contexts: [{ name: ctx, context: { cluster: c, user: ghost } }]\n`, /refers to user "ghost"/],
  ['a cluster without server', 'clusters: [{ name: c, cluster: {} }]\ncontexts: [{ name: ctx, context: { cluster: c } }]\n', /clusters\[0\]\.cluster\.server is required/],
  ['a server that is not a URL', 'clusters: [{ name: c, cluster: { server: "not a url" } }]\ncontexts: [{ name: ctx, context: { cluster: c } }]\n', /server must be an absolute http\(s\) URL/],
  ['a proxy-url', 'clusters: [{ name: c, cluster: { server: "https://c", proxy-url: "http://proxy:3128" } }]\ncontexts: [{ name: ctx, context: { cluster: c } }]\n', /proxy-url is not supported/],
  ['certificate-authority-data that is not base64 PEM', 'clusters: [{ name: c, cluster: { server: "https://c", certificate-authority-data: "bm90IHBlbQ==" } }]\ncontexts: [{ name: ctx, context: { cluster: c } }]\n', /certificate-authority-data must be base64-encoded PEM/],
  ['a missing certificate-authority file', 'clusters: [{ name: c, cluster: { server: "https://c", certificate-authority: missing-ca.crt } }]\ncontexts: [{ name: ctx, context: { cluster: c } }]\n', /certificate-authority names .*missing-ca\.crt, which cannot be read \(ENOENT\)/],
  ['insecure-skip-tls-verify not a boolean', 'clusters: [{ name: c, cluster: { server: "https://c", insecure-skip-tls-verify: "yes" } }]\ncontexts: [{ name: ctx, context: { cluster: c } }]\n', /insecure-skip-tls-verify must be true or false/],
  ['username and password', withUser('{ username: admin, password: secret }'), /basic authentication\) were removed from Kubernetes in 1\.19/],
  ['a client certificate without key', withUser('{ client-certificate-data: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==" }'), /client-key is missing/],
  ['exec and auth-provider together', withUser('{ exec: { apiVersion: client.authentication.k8s.io/v1beta1, command: x }, auth-provider: { name: oidc } }'), /exec and auth-provider cannot be used together/],
  ['exec with a token', withUser('{ token: t, exec: { apiVersion: client.authentication.k8s.io/v1beta1, command: x } }'), /cannot be combined with token/],
  ['exec without command', withUser('{ exec: { apiVersion: client.authentication.k8s.io/v1beta1 } }'), /exec\.command is required/],
  ['exec with an unknown apiVersion', withUser('{ exec: { apiVersion: client.authentication.k8s.io/v1alpha1, command: x } }'), /exec\.apiVersion must be client\.authentication\.k8s\.io\/v1 or \/v1beta1/],
  ['exec v1 without interactiveMode', withUser('{ exec: { apiVersion: client.authentication.k8s.io/v1, command: x } }'), /interactiveMode is required/],
  ['exec interactiveMode Always', withUser('{ exec: { apiVersion: client.authentication.k8s.io/v1, command: x, interactiveMode: Always } }'), /needs a terminal, and a server has none/],
  ['exec args not strings', withUser('{ exec: { apiVersion: client.authentication.k8s.io/v1beta1, command: x, args: [1, 2] } }'), /exec\.args must be a list of strings/],
  ['exec env malformed', withUser('{ exec: { apiVersion: client.authentication.k8s.io/v1beta1, command: x, env: [{ name: A }] } }'), /exec\.env must be a list of \{ name, value \}/],
  ['the gcp auth-provider', withUser('{ auth-provider: { name: gcp } }'), /"gcp" is not supported: only oidc is/],
  ['an oidc auth-provider without issuer', withUser('{ auth-provider: { name: oidc, config: { client-id: k } } }'), /idp-issuer-url is required/],
  ['an oidc auth-provider without config', withUser('{ auth-provider: { name: oidc } }'), /auth-provider\.config must be a mapping/],
  ['a token that is not a string', withUser('{ token: [a] }'), /token must be a string/],
  ['as-groups not a list', withUser('{ token: t, as: x, as-groups: admin }'), /as-groups must be a list of strings/],
  ['as-user-extra malformed', withUser('{ token: t, as: x, as-user-extra: { scopes: x } }'), /as-user-extra must map keys to lists of strings/],
  ['impersonating groups without a user', withUser('{ token: t, as-groups: [g] }'), /needs a user/],
  ['an authMode override without credentials', `${CLUSTER}contexts: [{ name: ctx, context: { cluster: c } }]\n`, /authMode 'cluster' needs credentials/, { contexts: { ctx: { authMode: 'cluster' } } }],
];

describe('malformed kubeconfigs', () => {
  it(`covers at least 20 (${brokenFiles.length + brokenContexts.length})`, () => {
    expect(brokenFiles.length + brokenContexts.length).toBeGreaterThanOrEqual(20);
  });

  it.each(brokenFiles)('%s: refused at construction, naming the file', async (_what, text, message) => {
    const path = await file(`broken-${Math.random().toString(36).slice(2)}.yaml`, text);
    expect(() => kubeconfigClusters({ paths: [path], watch: false })).toThrow(KubeconfigError);
    expect(() => kubeconfigClusters({ paths: [path], watch: false })).toThrow(message);
    expect(() => kubeconfigClusters({ paths: [path], watch: false })).toThrow(path);
  });

  it.each(brokenContexts)('%s: that context answers the error, the others work', async (_what, text, message, options = {}) => {
    const good = 'clusters: [{ name: fine, cluster: { server: "https://fine" } }]\ncontexts: [{ name: fine, context: { cluster: fine } }]\n';
    const path = await file(`ctx-${Math.random().toString(36).slice(2)}.yaml`, text);
    const other = await file(`good-${Math.random().toString(36).slice(2)}.yaml`, good);
    const resolver = kubeconfigClusters({ paths: [path, other], watch: false, ...options });
    const errors = errorsOf(resolver);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(message);
    expect(errors[0]!.message).toContain('context "ctx"');
    expect(() => resolver.resolve('ctx')).toThrow(message);
    expect((await resolver.resolve('fine'))?.server).toBe('https://fine');
  });
});

describe('kubeconfigClusters options', () => {
  it.each<[string, object, RegExp]>([
    ['empty paths', { paths: [] }, /paths must be a non-empty array/],
    ['include not an array', { include: 'x' }, /include must be an array/],
    ['a bad authMode', { authMode: 'admin' }, /authMode must be one of/],
    ['a bad override', { contexts: { a: { authMode: 'x' } } }, /contexts\["a"\]\.authMode/],
    ['a bad rename', { rename: 3 }, /rename must be/],
    ['a misspelled option', { path: ['/x'] }, /kubeconfigClusters: unknown option "path"/],
  ])('refuses %s', (_what, options, message) => {
    expect(() => kubeconfigClusters({ watch: false, ...options })).toThrow(message);
  });
});
