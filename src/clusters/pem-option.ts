import { InvalidOptionError } from '../errors.ts';

const PEM_BEGIN = '-----BEGIN ';

/** Whether `value` holds PEM text (a certificate, a bundle of them, or a key). */
export function isPem(value: unknown): value is string | Buffer {
  return (typeof value === 'string' || Buffer.isBuffer(value)) && value.toString('latin1').includes(PEM_BEGIN);
}

// A single-line string shaped like a path is almost always a CA or key file's name given where its
// content belongs (kubeconfig's `certificate-authority` versus `certificate-authority-data`).
function looksLikePath(text: string): boolean {
  return !/[\r\n]/.test(text) && text.length <= 4096 && (/^(\/|\.{1,2}[/\\]|~|[A-Za-z]:[/\\])/.test(text) || /\.(pem|crt|cer|key)$/i.test(text));
}

// The base64 of PEM text: a kubeconfig's `*-data` field copied as is.
function isBase64Pem(text: string): boolean {
  return /^[A-Za-z0-9+/=\s]+$/.test(text) && Buffer.from(text, 'base64').toString('latin1').includes(PEM_BEGIN);
}

/**
 * Refuses a value that must be PEM, saying what to do for the two usual mistakes: a file path where
 * the file's content belongs, and base64 still to be decoded. Only a path is quoted back: anything
 * else may be a private key.
 * @param at the option's name in the message, e.g. `clusters[0] ("prod").ca`.
 * @throws {InvalidOptionError} when `value` is not PEM.
 */
export function checkPem(value: unknown, at: string): asserts value is string | Buffer {
  if (isPem(value)) return;
  const text = typeof value === 'string' ? value.trim() : undefined;
  let advice = 'PEM text starts with "-----BEGIN "';
  if (text !== undefined && looksLikePath(text)) {
    advice = `got the file path ${JSON.stringify(text)}: pass the file's content instead, e.g. fs.readFileSync(${JSON.stringify(text)})`;
  } else if (text !== undefined && isBase64Pem(text)) {
    advice = "got base64 (a kubeconfig's *-data field?): decode it first, e.g. Buffer.from(value, 'base64')";
  } else if (value === undefined || value === '') {
    advice = `got ${value === '' ? 'an empty string' : 'undefined'}, as from an unset environment variable or an empty file`;
  }
  throw new InvalidOptionError(`${at} must be a PEM string or Buffer; ${advice}`);
}
