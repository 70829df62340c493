import { createRequire } from 'node:module';

/**
 * lz4-napi (lz4_flex, a native addon), loaded when lz4 is first used rather than with the module
 * graph: loading it took ~4 ms of every start, though backups default to zstd.
 */
type Lz4 = typeof import('lz4-napi');

let loaded: Lz4 | undefined;

export function lz4(): Lz4 {
  loaded ??= createRequire(import.meta.url)('lz4-napi') as Lz4;
  return loaded;
}
