import * as api from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.ts';
import { loadOpenTelemetry, openTelemetryTracing, resolveTracing } from '../../src/tracing/open-telemetry.ts';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('loading @opentelemetry/api', () => {
  it('finds the installed package, and nothing when require fails or gives something else', () => {
    expect(typeof loadOpenTelemetry()?.trace.getTracer).toBe('function');
    expect(
      loadOpenTelemetry(() => {
        throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
      }),
    ).toBeUndefined();
    expect(loadOpenTelemetry(() => ({}))).toBeUndefined();
    expect(loadOpenTelemetry(() => null)).toBeUndefined();
  });
});

describe('the tracing option', () => {
  const missing = () => undefined;
  it('is on by default when the package is there, off at no cost when it is not', () => {
    expect(resolveTracing(undefined)).toBeDefined();
    expect(resolveTracing(undefined, missing)).toBeUndefined();
  });

  it('false turns it off; true demands the package, naming what to install', () => {
    expect(resolveTracing(false)).toBeUndefined();
    expect(resolveTracing(true)).toBeDefined();
    expect(() => resolveTracing(true, missing)).toThrow(InvalidOptionError);
    expect(() => resolveTracing(true, missing)).toThrow(/npm install @opentelemetry\/api/);
  });

  it.each(['yes', 1, null, {}])('refuses %j, naming the option', (value) => {
    expect(() => resolveTracing(value)).toThrow(/^tracing must be true, false or left out/);
  });
});

describe('without an SDK registered', () => {
  it("leaves the request untraced: nothing to record, the client's traceparent goes on as it came", () => {
    // No tracer provider nor propagator in this process: the API's no-op ones answer.
    const tracing = openTelemetryTracing(api);
    const client = new PassThrough();
    const req = { method: 'GET', headers: { traceparent: TRACEPARENT } } as unknown as IncomingMessage;
    expect(tracing.start(req, client, 'prod', '/api/v1/pods', false)).toBeUndefined();
    // Nothing waits on the client to end a span.
    expect(client.listenerCount('close')).toBe(0);
    client.destroy();
  });
});
