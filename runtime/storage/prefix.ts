/** Where adapters report warnings (e.g. plain-http endpoints); console by default. */
export interface StorageLogger {
  warn(message: string): void;
}

/** 'a/b/' from 'a/b', '/a/b/', 'a/b/'; '' for none. */
export function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed ? `${trimmed}/` : '';
}

export function joinKey(prefix: string, key: string): string {
  return prefix + key;
}

export function stripPrefix(prefix: string, fullKey: string): string {
  return fullKey.startsWith(prefix) ? fullKey.slice(prefix.length) : fullKey;
}
