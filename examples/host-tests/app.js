// A dashboard's server, as a host project would have it: the proxy under /clusters (browsers talk
// to the clusters through it: watches, logs, exec terminals) and a pods list of its own.
import express from 'express';
import { createClusterProxy } from 'kube-cluster-proxy';

/** The app and its proxy; serve both (the proxy also takes the WebSocket upgrades). */
export function createApp({ clusters }) {
  const proxy = createClusterProxy({ clusters });
  const app = express();
  // Before any body parser: the proxy streams request bodies to the cluster as they come.
  app.use(proxy.mountPath, proxy);
  app.get('/api/:cluster/pods', async (req, res) => {
    // Through the proxy, on loopback: it holds each cluster's address, CA and credentials.
    const path = `${proxy.mountPath}/${encodeURIComponent(req.params.cluster)}/api/v1/namespaces/default/pods`;
    const headers = req.headers.authorization ? { authorization: req.headers.authorization } : {};
    const answer = await fetch(`http://127.0.0.1:${req.socket.localPort}${path}`, { headers });
    const list = await answer.json();
    if (!answer.ok) return res.status(answer.status).json(list);
    res.json(list.items.map((pod) => ({ name: pod.metadata.name, phase: pod.status.phase })));
  });
  return { app, proxy };
}
