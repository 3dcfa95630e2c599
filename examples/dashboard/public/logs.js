// The logs pane: follows one pod's log (`?follow=true`) and is emptied, with a reason, whenever
// the cluster, namespace or pod changes, so that no line of a previous pod stays on screen.
import { explainNetworkError, explainResponse } from './messages.js';
import { readLines, tryFetch } from './stream.js';

const $ = (id) => document.getElementById(id);
/** Lines kept on screen; older ones scroll out so a chatty pod cannot grow the page without bound. */
const MAX_LINES = 2000;

let current = new AbortController();

/** Empties the pane and says why it is empty. */
export function clearLogs(reason) {
  current.abort();
  current = new AbortController();
  $('logs').textContent = '';
  $('log-pod').textContent = '';
  hint(reason);
  return current.signal;
}

function hint(text) {
  $('logs-hint').textContent = text;
  $('logs-hint').hidden = !text;
}

/** Follows the log of `pod` until another pod, namespace or cluster is chosen. */
export async function followLogs({ cluster, namespace, pod, onError }) {
  const signal = clearLogs(`Following the log of ${pod}: it has written nothing yet.`);
  $('log-pod').textContent = `${pod} on ${cluster}`;
  const url = `/clusters/${encodeURIComponent(cluster)}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?follow=true&tailLines=200`;
  try {
    const res = await tryFetch(url, { signal });
    if (signal.aborted) return;
    if (!res || !res.ok) {
      const why = res ? await explainResponse(res, cluster) : explainNetworkError();
      if (signal.aborted) return;
      hint(`No log to show. ${why.text}`);
      return onError(why);
    }
    let lines = 0;
    await readLines(res, (line) => {
      hint('');
      const pane = $('logs');
      pane.append(`${line}\n`);
      if (++lines > MAX_LINES) pane.firstChild?.remove();
      pane.scrollTop = pane.scrollHeight;
    }, signal);
    if (!signal.aborted) hint(`The log of ${pod} has ended: the pod stopped or was deleted.`);
  } catch (error) {
    if (!signal.aborted) hint(`The log of ${pod} stopped: ${error.message}`);
  }
}
