/**
 * A small typed reader over parsed YAML that collects every problem with its path
 * (`restore.pitr.startTime: expected an RFC 3339 time`) so one run reports them all.
 */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`${source} is not valid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export class Reader {
  readonly problems: string[];
  readonly path: string;
  readonly value: Record<string, unknown>;
  readonly #seen = new Set<string>();

  constructor(value: unknown, path = '', problems: string[] = []) {
    this.problems = problems;
    this.path = path;
    if (value === undefined || value === null) {
      this.value = {};
    } else if (typeof value !== 'object' || Array.isArray(value)) {
      this.problems.push(`${path || 'the document'}: expected a mapping`);
      this.value = {};
    } else {
      this.value = value as Record<string, unknown>;
    }
  }

  #at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  #get(key: string): unknown {
    this.#seen.add(key);
    return this.value[key];
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  problem(key: string, message: string): void {
    this.problems.push(`${this.#at(key)}: ${message}`);
  }

  /** A field removed from the API (runtime/config/removed-fields.ts): present, it is refused with why. */
  removed(key: string, reason: string): void {
    this.#seen.add(key);
    if (this.value[key] !== undefined) this.problem(key, `was removed from the API: ${reason}. Delete it`);
  }

  /** Marks keys as known without reading them: fields another layer reads (the operator, a sub-reader). */
  accept(...keys: string[]): void {
    for (const k of keys) this.#seen.add(k);
  }

  string(key: string): string | undefined {
    const v = this.#get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.length === 0) {
      this.problem(key, 'expected a non-empty string');
      return undefined;
    }
    return v;
  }

  requiredString(key: string): string {
    const v = this.string(key);
    if (v === undefined && !this.problems.some((p) => p.startsWith(`${this.#at(key)}:`))) {
      this.problem(key, 'is required');
    }
    return v ?? '';
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.#get(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      this.problem(key, 'expected true or false');
      return fallback;
    }
    return v;
  }

  integer(key: string, options: { min?: number; max?: number } = {}): number | undefined {
    const v = this.#get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      this.problem(key, 'expected an integer');
      return undefined;
    }
    if (options.min !== undefined && v < options.min) this.problem(key, `must be at least ${options.min}`);
    if (options.max !== undefined && v > options.max) this.problem(key, `must be at most ${options.max}`);
    return v;
  }

  /** An integer that may exceed 2^53 (offsets, epoch ms); YAML numbers and decimal strings both work. */
  bigint(key: string): bigint | undefined {
    const v = this.#get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
    this.problem(key, 'expected an integer');
    return undefined;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T;
  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined;
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback?: T): T | undefined {
    const v = this.#get(key);
    if (v === undefined || v === null) return fallback;
    const match = allowed.find((a) => typeof v === 'string' && a.toLowerCase() === v.toLowerCase());
    if (!match) {
      this.problem(key, `expected one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
      return fallback;
    }
    return match;
  }

  strings(key: string): string[] {
    const v = this.#get(key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.length === 0)) {
      this.problem(key, 'expected a list of non-empty strings');
      return [];
    }
    return v as string[];
  }

  object(key: string): Reader | undefined {
    const v = this.#get(key);
    if (v === undefined || v === null) return undefined;
    return new Reader(v, this.#at(key), this.problems);
  }

  /** A list of mappings, each read by its own Reader (path `key[i]`). */
  objects(key: string): Reader[] {
    const v = this.#get(key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.problem(key, 'expected a list');
      return [];
    }
    return v.map((item, i) => new Reader(item, `${this.#at(key)}[${i}]`, this.problems));
  }

  /** A mapping of string keys to values read by `read`. */
  map<T>(key: string, read: (value: unknown, path: string) => T | undefined): Map<string, T> {
    const v = this.#get(key);
    const out = new Map<string, T>();
    if (v === undefined || v === null) return out;
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.problem(key, 'expected a mapping');
      return out;
    }
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
      const parsed = read(item, `${this.#at(key)}.${k}`);
      if (parsed !== undefined) out.set(k, parsed);
    }
    return out;
  }

  /** Unknown keys are errors: a misspelled field must not be silently ignored. */
  finish(): void {
    for (const key of Object.keys(this.value)) {
      if (!this.#seen.has(key)) this.problems.push(`${this.#at(key)}: unknown field (check its spelling)`);
    }
  }
}
