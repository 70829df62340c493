/** Compression of backup segments. */
export class Compression {
  /**
   * Zstandard, the default: the best ratio at high speed.
   * @param level 1 (fastest) to 22 (smallest); 3 is the engine's default
   */
  public static zstd(level?: number): Compression {
    if (level !== undefined && (!Number.isInteger(level) || level < 1 || level > 22)) {
      throw new Error(
        `Compression.zstd(${level}): the level must be a whole number from 1 to 22 (3 is a good default)`,
      );
    }
    return new Compression('zstd', level);
  }
  /** LZ4: the fastest, with a lower ratio. */
  public static lz4(): Compression {
    return new Compression('lz4');
  }
  /**
   * Gzip, for tools that only read gzip.
   * @param level 1 (fastest) to 9 (smallest)
   */
  public static gzip(level?: number): Compression {
    if (level !== undefined && (!Number.isInteger(level) || level < 1 || level > 9)) {
      throw new Error(`Compression.gzip(${level}): the level must be a whole number from 1 to 9`);
    }
    return new Compression('gzip', level);
  }
  /** No compression, e.g. for data that is already compressed by the producers. */
  public static none(): Compression {
    return new Compression('none');
  }

  private constructor(
    /** The algorithm, as written to `spec.compression`. */
    public readonly algorithm: 'zstd' | 'lz4' | 'gzip' | 'none',
    /** The level, as written to `spec.compressionLevel`; undefined for the default. */
    public readonly level?: number,
  ) {}
}
