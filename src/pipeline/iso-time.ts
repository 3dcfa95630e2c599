// The ISO text of the current second, kept: `toISOString()` costs microseconds, and every audit
// event carries a time or two.
let second = Number.NaN;
let prefix = '';

/** `new Date(ms).toISOString()`, for a finite time in milliseconds since the epoch, at a fraction of the cost. */
export function isoTime(ms: number): string {
  const whole = Math.floor(ms);
  const s = Math.floor(whole / 1000);
  if (s !== second) {
    // Throws a RangeError for a time out of range, as toISOString does.
    prefix = new Date(s * 1000).toISOString().slice(0, -4);
    second = s;
  }
  return `${prefix}${String(whole - s * 1000).padStart(3, '0')}Z`;
}
