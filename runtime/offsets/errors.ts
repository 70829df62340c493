/** Invalid input to an offsets operation (a usage error: fix the command or the resource). */
export class OffsetsUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OffsetsUsageError';
  }
}
