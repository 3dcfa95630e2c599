import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where Debian installs nginx; `undefined` when it is not installed. */
export const nginxPath = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));

/** Why the load-balancer tests cannot run here, or `undefined`. CI installs nginx, so there it must run. */
export function nginxSkipReason(): string | undefined {
  if (nginxPath) return undefined;
  if (process.env.CI) throw new Error('nginx is not installed, and CI must run the load-balancer tests');
  return 'nginx is not installed (apt-get install nginx)';
}

export interface LoadBalancer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A real nginx on loopback, balancing round-robin (no sticky sessions) over `upstreams`, with
 * WebSocket upgrades passed through and no buffering, as a production ingress would. Configured
 * as docs/operations.md recommends: an idempotent request refused by a draining replica (`503`)
 * or sent to a stopped one (connection refused) goes to the next replica.
 */
export async function startLoadBalancer(port: number, upstreams: readonly string[]): Promise<LoadBalancer> {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-nginx-'));
  const config = `
daemon off;
master_process on;
worker_processes 1;
user root;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream replicas {
${upstreams.map((u) => `    server ${new URL(u).host} max_fails=0;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_buffering off;
      proxy_read_timeout 3600s;
      proxy_next_upstream error timeout http_503;
      proxy_next_upstream_tries 3;
    }
  }
}
`;
  await writeFile(join(dir, 'nginx.conf'), config);
  const child: ChildProcess = spawn(nginxPath!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
      throw new Error(`nginx did not start (exit ${child.exitCode}):\n${log}`);
    }
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
