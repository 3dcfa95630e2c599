import { InvalidOptionError } from './errors.ts';

/**
 * Refuses option names that are not in `known`: a misspelled option (`mountpath`,
 * `insecureSkipTlsVerify`) would otherwise be ignored in silence by JavaScript callers.
 */
export function checkKnownOptions<T extends object>(value: T, known: readonly (keyof T & string)[], where: string): void {
  for (const [key, given] of Object.entries(value)) {
    if (given === undefined || (known as readonly string[]).includes(key)) continue;
    const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
    throw new InvalidOptionError(
      `${where}: unknown option "${key}"${near ? `; did you mean "${near}"?` : ''} (known: ${known.join(', ')})`,
    );
  }
}
