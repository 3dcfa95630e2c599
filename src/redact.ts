// A JWT, or a long run of base64url/base64 (an EKS token, a key): error messages and diagnostics
// from plugins, issuers and user callbacks echo credentials often enough not to be trusted. `/` is
// left out of the run so that file paths stay readable.
const JWT = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g;
const LONG_BASE64 = /[A-Za-z0-9+_-]{32,}={0,2}/g;

/** `text` with anything that looks like a token replaced by `[redacted]`, nothing else changed. */
export function withoutTokens(text: string): string {
  return text.replace(JWT, '[redacted]').replace(LONG_BASE64, '[redacted]');
}

/**
 * Foreign text made fit for an error message: anything that looks like a token replaced by
 * `[redacted]`, whitespace and control characters collapsed, at most `max` characters.
 */
export function redactedExcerpt(text: string, max: number): string {
  const cleaned = withoutTokens(text)
    .replace(/[\s\p{Cc}]+/gu, ' ')
    .trim();
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned;
}

/**
 * The first line of an error's message, with its code, for a message the user sees: short, and
 * with anything that looks like a token redacted, since the error may come from user code, a
 * plugin or an issuer.
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const line = redactedExcerpt(error.message.split('\n')[0] ?? '', 200) || error.name;
    return code ? `${line} (${code})` : line;
  }
  return redactedExcerpt(String(error), 200);
}
