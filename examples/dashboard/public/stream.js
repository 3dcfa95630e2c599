// Reads a streamed HTTP answer (a watch, a followed log) line by line, stopping when aborted.
export async function readLines(res, onLine, signal) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  signal.addEventListener('abort', () => reader.cancel().catch(() => {}), { once: true });
  let buffer = '';
  while (!signal.aborted) {
    const { value, done } = await reader.read();
    if (done || signal.aborted) break;
    buffer += value;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0 && !signal.aborted) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  }
  if (buffer && !signal.aborted) onLine(buffer);
}

/** `fetch` that turns "no answer at all" into `undefined` rather than throwing (aborts still throw). */
export async function tryFetch(url, init) {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (init?.signal?.aborted) throw error;
    return undefined;
  }
}
