import { describe, expect, it } from 'vitest';
import { execQuery, exitCodeOf } from '../../src/testing/client-exec.ts';

describe('exitCodeOf', () => {
  it('reads 0 from Success and the ExitCode cause of NonZeroExitCode', () => {
    expect(exitCodeOf({ status: 'Success' })).toBe(0);
    expect(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '42' }] } })).toBe(42);
  });

  it('is undefined for other failures and malformed causes', () => {
    expect(exitCodeOf({ status: 'Failure', reason: 'InternalError', message: 'boom' })).toBeUndefined();
    expect(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode' })).toBeUndefined();
    expect(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: 'two' }] } })).toBeUndefined();
    expect(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '1.5' }] } })).toBeUndefined();
    expect(exitCodeOf({})).toBeUndefined();
  });
});

describe('execQuery', () => {
  it('builds the query kubectl sends', () => {
    expect(execQuery(['sh', '-c', 'a b'], {}).toString()).toBe('command=sh&command=-c&command=a+b&stdout=true&stderr=true');
    expect(execQuery(['cat'], { stdin: '', container: 'app', tty: true }).toString()).toBe('command=cat&container=app&stdin=true&stdout=true&stderr=false&tty=true');
  });
});
