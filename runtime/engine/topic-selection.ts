import { EngineError } from './errors.ts';

/**
 * Topic selection by exact name, glob (`orders-*`, `events.?`) or regular expression (`~orders-\d+`,
 * anchored), with excludes in the same forms. Internal topics (`__consumer_offsets`, ...) are only
 * eligible when asked for.
 */
export interface TopicSelection {
  readonly include: readonly string[];
  readonly exclude?: readonly string[];
  readonly includeInternal?: boolean;
}

export function compilePattern(pattern: string): RegExp {
  if (pattern.startsWith('~')) {
    try {
      return new RegExp(`^(?:${pattern.slice(1)})$`);
    } catch (error) {
      throw new EngineError(
        'config',
        `topic pattern '${pattern}' is not a valid regular expression: ${(error as Error).message}`,
      );
    }
  }
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

export function isInternalTopic(name: string): boolean {
  return name.startsWith('__');
}

/** The selected topics among `available`, sorted. An empty include list selects everything. */
export function selectTopics(available: readonly string[], selection: TopicSelection): string[] {
  const include = selection.include.map(compilePattern);
  const exclude = (selection.exclude ?? []).map(compilePattern);
  return available
    .filter((t) => selection.includeInternal || !isInternalTopic(t))
    .filter((t) => include.length === 0 || include.some((re) => re.test(t)))
    .filter((t) => !exclude.some((re) => re.test(t)))
    .sort();
}

/** Include entries that are plain names (no pattern) and match no available topic: likely typos. */
export function missingExactTopics(available: readonly string[], selection: TopicSelection): string[] {
  const set = new Set(available);
  return selection.include.filter((p) => !p.startsWith('~') && !/[*?]/.test(p) && !set.has(p));
}
