import { readFileSync } from 'node:fs';
import { parseDuration } from './duration.js';
import { BridgeError, type Issue } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;
export type ReadFile = (path: string) => string;

const defaultReadFile: ReadFile = (path) => readFileSync(path, 'utf8');

/**
 * Reads typed values out of an environment and collects every problem, so
 * start-up fails once with the full list instead of one variable at a time.
 * Values are never echoed in messages (they may be secrets).
 */
export class EnvReader {
  readonly issues: Issue[] = [];
  constructor(
    private readonly env: Env,
    private readonly readFile: ReadFile = defaultReadFile,
  ) {}

  private problem(name: string, message: string): undefined {
    this.issues.push({ path: name, message });
    return undefined;
  }

  /** The raw value; empty strings count as unset. */
  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v;
  }

  string(name: string): string | undefined {
    return this.raw(name)?.trim();
  }

  /** A secret from `NAME` or the file named by `NAME_FILE` (trailing newline dropped); never both. */
  secret(name: string): string | undefined {
    const direct = this.raw(name);
    const file = this.raw(`${name}_FILE`);
    if (direct !== undefined && file !== undefined) {
      return this.problem(name, `set either ${name} or ${name}_FILE, not both`);
    }
    if (file === undefined) return direct?.trim();
    try {
      const text = this.readFile(file.trim()).replace(/\r?\n$/, '');
      if (text.trim() === '') return this.problem(`${name}_FILE`, 'the file is empty');
      return text.trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      return this.problem(`${name}_FILE`, `cannot read the file (${code})`);
    }
  }

  /** A comma-separated list; empty items are dropped. */
  list(name: string, value = this.string(name)): string[] {
    if (value === undefined) return [];
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  secretList(name: string): string[] {
    return this.list(name, this.secret(name));
  }

  int(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v)) return this.problem(name, 'must be a whole number') ?? fallback;
    const n = Number(v);
    if (n < min || n > max) return this.problem(name, `must be between ${min} and ${max}`) ?? fallback;
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.string(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (v === 'true' || v === '1' || v === 'yes') return true;
    if (v === 'false' || v === '0' || v === 'no') return false;
    return this.problem(name, 'must be true or false') ?? fallback;
  }

  /** Milliseconds; a bare number is read in `bareUnit`, or a unit suffix (`250ms`, `30s`, `5m`, `24h`, `7d`). */
  duration(name: string, bareUnit: 'ms' | 's', fallback: number): number;
  duration(name: string, bareUnit: 'ms' | 's', fallback: undefined): number | undefined;
  duration(name: string, bareUnit: 'ms' | 's', fallback: number | undefined): number | undefined {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const ms = parseDuration(v, bareUnit);
    if (ms === undefined) return this.problem(name, 'must be a duration such as 30s, 5m, 24h or 7d') ?? fallback;
    return ms;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.string(name);
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    return this.problem(name, `must be one of ${allowed.join(', ')}`) ?? fallback;
  }

  /** Applies a parser to each list item, reporting the item index on failure. */
  parsedList<T>(name: string, parse: (item: string) => T | undefined, what: string): T[] {
    const out: T[] = [];
    this.list(name).forEach((item, i) => {
      const parsed = parse(item);
      if (parsed === undefined) this.problem(name, `item ${i + 1} is not ${what}`);
      else out.push(parsed);
    });
    return out;
  }

  /** Reports a cross-variable rule. */
  require(condition: boolean, name: string, message: string): void {
    if (!condition) this.problem(name, message);
  }

  /** Throws one error naming every bad variable. */
  done(): void {
    if (this.issues.length === 0) return;
    const lines = this.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
    throw new BridgeError('config_invalid', `invalid configuration:\n${lines}`, { issues: this.issues });
  }
}
