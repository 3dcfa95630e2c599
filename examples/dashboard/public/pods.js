// The pods table, kept current by a watch (`?watch=1`): ADDED / MODIFIED / DELETED events.
import { explainNetworkError, explainResponse } from './messages.js';
import { readLines, tryFetch } from './stream.js';

const $ = (id) => document.getElementById(id);
/** Pause before re-opening a watch the server ended (they end after a timeout, by design). */
const REWATCH_DELAY_MS = 1000;

/**
 * Watches the pods of `namespace` on `cluster` until `signal` aborts. `onSelect(name)` is called
 * on a click; `onError({ text, needsLogin })` when the watch cannot be opened; `onReady()` once it is.
 */
export function watchPods({ cluster, namespace, signal, selected, onSelect, onError, onReady }) {
  const pods = new Map();
  let loaded = false;
  const render = () => {
    if (signal.aborted) return;
    const rows = [...pods.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).map((pod) => podRow(pod, selected(), onSelect));
    if (rows.length === 0) rows.push(noteRow(loaded ? `No pods in namespace "${namespace}" of "${cluster}" yet; new ones appear here.` : `Loading the pods of "${cluster}"...`));
    $('pods').tBodies[0].replaceChildren(...rows);
  };
  render();
  const run = async () => {
    while (!signal.aborted) {
      const res = await tryFetch(`/clusters/${encodeURIComponent(cluster)}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods?watch=1`, { signal });
      if (signal.aborted) return;
      if (!res || !res.ok) {
        pods.clear();
        $('pods').tBodies[0].replaceChildren(noteRow('No pods to show (see the message above).'));
        return onError(res ? await explainResponse(res, cluster) : explainNetworkError());
      }
      // Each watch starts with an ADDED event per existing pod: start from an empty table.
      pods.clear();
      loaded = true;
      render();
      onReady();
      await readLines(res, (line) => applyEvent(pods, JSON.parse(line)) && render(), signal).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, REWATCH_DELAY_MS));
    }
  };
  run().catch((error) => signal.aborted || onError({ text: `The pod list stopped: ${error.message}` }));
  return { render };
}

function applyEvent(pods, event) {
  const name = event.object?.metadata?.name;
  if (!name) return false;
  if (event.type === 'DELETED') pods.delete(name);
  else if (event.type === 'ADDED' || event.type === 'MODIFIED') pods.set(name, event.object);
  else return false;
  return true;
}

function podRow(pod, selectedName, onSelect) {
  const row = document.createElement('tr');
  const name = pod.metadata.name;
  row.className = name === selectedName ? 'selected' : '';
  row.dataset.pod = name;
  const ready = (pod.status?.containerStatuses ?? []).filter((c) => c.ready).length;
  const total = pod.spec?.containers?.length ?? 0;
  for (const text of [name, pod.status?.phase ?? '', `${ready}/${total}`, pod.spec?.nodeName ?? '']) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.append(cell);
  }
  row.tabIndex = 0;
  row.title = `Follow the logs of ${name} and open a terminal in it`;
  row.onclick = () => onSelect(name);
  row.onkeydown = (event) => event.key === 'Enter' && onSelect(name);
  return row;
}

function noteRow(text) {
  const row = document.createElement('tr');
  const cell = document.createElement('td');
  cell.colSpan = 4;
  cell.className = 'note';
  cell.textContent = text;
  row.append(cell);
  return row;
}
