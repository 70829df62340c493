/**
 * Memory the fetch connections' sockets read into, used again once the responses read into it are
 * done with, instead of a fresh buffer for every read.
 *
 * Why: a backup reads each byte it stores off a socket first. Node gives every read a new buffer
 * (up to 64 KiB), so a GiB backed up allocated a GiB of them; V8 counts that memory against its heap
 * limit and marked the whole heap ~40 times a GiB for it (a quarter of the process's CPU, on its own
 * thread). Reading into recycled slabs (Node's `onread` option) took a 1 GiB backup to 0.81x the time
 * and 0.82x the CPU (10 paired runs), with a lower peak RSS.
 *
 * Safety rests on one rule: a slab is read into again only when every byte in it belongs to a
 * response whose consumer said it is done with it (`release`). Only raw fetch responses say so
 * (raw-fetch.ts), once their records are copied out. Any other response in a slab (metadata, a
 * produce acknowledgement, a decoded fetch whose records are views of it) is never released, so that
 * slab is dropped and left to the garbage collector like any other buffer.
 *
 * A socket's bytes land in its slabs in order, so each slab holds one stretch of the socket's stream:
 * a response is a stream range [start, end), and a slab is done when the ranges released cover it.
 */

export const SLAB_BYTES = 1024 * 1024;
/** A read is never offered less room than this (Node's own reads are 64 KiB; TLS records 16 KiB). */
export const MIN_READ_BYTES = 64 * 1024;
/**
 * Sealed slabs a socket waits on for releases, at most: more than the fetch responses in flight on
 * one connection span (4 MiB each). Past it the oldest is dropped, so a connection that reads what is
 * never released (a decoded fetch, produce acknowledgements) holds no more than this.
 */
export const MAX_PENDING_SLABS = 16;

export interface ReadBufferStats {
  /** Slabs allocated, reused from the pool, and dropped (something in them was never released). */
  readonly allocated: number;
  readonly reused: number;
  readonly dropped: number;
  /**
   * Sockets whose reads or releases stopped adding up (never expected): their slabs are no longer
   * reused, so nothing in them can be overwritten; their bytes still arrive whole.
   */
  readonly untracked: number;
  /** Bytes read into slabs, all sockets together. */
  readonly bytesRead: number;
}

/** Node's `onread` socket option (net.connect and tls.connect). */
export interface OnRead {
  buffer: () => Uint8Array;
  /** Returning false would stop the socket reading. */
  callback: (this: NodeJS.EventEmitter, bytesRead: number, buffer: Uint8Array) => boolean;
}

interface Slab {
  readonly buffer: Buffer;
  readonly reads: SocketReads;
  /** The socket's stream position of buffer[0]. */
  readonly start: number;
  filled: number;
  /** The stream ranges [start, end) released: sorted, disjoint, neighbours merged. */
  readonly ranges: [number, number][];
}

/** Every byte read into the slab was released: its ranges have merged into one that covers it. */
function wholeReleased(slab: Slab): boolean {
  if (slab.filled === 0) return true;
  const only = slab.ranges.length === 1 ? slab.ranges[0] : undefined;
  return only !== undefined && only[0] === slab.start && only[1] === slab.start + slab.filled;
}

/** Which slab a view lies in: views carry their ArrayBuffer, and every slab has one of its own. */
const slabs = new WeakMap<ArrayBufferLike, Slab>();

/** The slabs of one port's connections: a pool of free ones, shared, and each socket's stream. */
export class ReadBuffers {
  readonly #free: Buffer[] = [];
  #allocated = 0;
  #reused = 0;
  #dropped = 0;
  #untracked = 0;
  #bytesRead = 0;

  constructor(
    readonly slabBytes = SLAB_BYTES,
    /** Free slabs kept for reuse; beyond, a recycled slab is let go. */
    readonly maxFree = 16,
    readonly minRead = Math.min(MIN_READ_BYTES, slabBytes),
  ) {
    if (minRead > slabBytes) throw new RangeError('a read must fit in a slab');
  }

  /** The options of one new socket: its reads land in this pool's slabs. */
  socketOptions(): { onread: OnRead } {
    return { onread: new SocketReads(this).onread };
  }

  get stats(): ReadBufferStats {
    return {
      allocated: this.#allocated,
      reused: this.#reused,
      dropped: this.#dropped,
      untracked: this.#untracked,
      bytesRead: this.#bytesRead,
    };
  }

  take(): Buffer {
    const free = this.#free.pop();
    if (free) {
      this.#reused++;
      return free;
    }
    this.#allocated++;
    // Slow: a slab of its own, never a slice of Node's shared pool (its ArrayBuffer names it).
    return Buffer.allocUnsafeSlow(this.slabBytes);
  }

  recycle(buffer: Buffer): void {
    if (this.#free.length < this.maxFree) this.#free.push(buffer);
  }

  dropped(): void {
    this.#dropped++;
  }

  untrack(): void {
    this.#untracked++;
  }

  read(bytes: number): void {
    this.#bytesRead += bytes;
  }
}

/** One socket's stream of bytes, laid in slabs one after the other. */
class SocketReads {
  #position = 0;
  #active: Slab;
  /** Sealed slabs not yet wholly released, oldest first. */
  #sealed: Slab[] = [];
  /** Set when the accounting stopped adding up: from then on no slab of this socket is reused. */
  #untracked = false;

  constructor(private readonly pool: ReadBuffers) {
    this.#active = this.#newSlab();
  }

  readonly onread: OnRead = {
    // Node asks for the next read's room once as the socket is made, then after every read.
    buffer: () => {
      const active = this.#active;
      if (active.buffer.length - active.filled < this.pool.minRead) {
        this.#seal(active);
        this.#active = this.#newSlab();
      }
      return this.#active.buffer.subarray(this.#active.filled);
    },
    callback: (() => {
      const reads = this;
      return function (this: NodeJS.EventEmitter, bytesRead: number, room: Uint8Array) {
        // The client listens for 'data', which a socket with onread no longer emits itself.
        this.emit('data', reads.#landed(bytesRead, room));
        return true;
      };
    })(),
  };

  #newSlab(): Slab {
    const slab: Slab = {
      buffer: this.pool.take(),
      reads: this,
      start: this.#position,
      filled: 0,
      ranges: [],
    };
    slabs.set(slab.buffer.buffer, slab);
    return slab;
  }

  /** The bytes just read, as a view of the active slab (the room it offered starts where they lie). */
  #landed(bytesRead: number, room: Uint8Array): Buffer {
    const slab = this.#active;
    if (room.buffer !== slab.buffer.buffer || room.byteOffset !== slab.buffer.byteOffset + slab.filled) {
      // Not where this socket's stream was laid: delivered as a copy of its own, and no slab of the
      // socket is reused again.
      this.#untrack();
      return Buffer.from(room.subarray(0, bytesRead));
    }
    const view = slab.buffer.subarray(slab.filled, slab.filled + bytesRead);
    slab.filled += bytesRead;
    this.#position += bytesRead;
    this.pool.read(bytesRead);
    return view;
  }

  #seal(slab: Slab): void {
    if (!this.#untracked && wholeReleased(slab)) {
      this.#recycle(slab);
      return;
    }
    this.#sealed.push(slab);
    if (this.#sealed.length > MAX_PENDING_SLABS) this.#drop(this.#sealed.shift() as Slab);
  }

  /** Never read into again: the collector has it once the views of it are gone. */
  #drop(slab: Slab): void {
    slabs.delete(slab.buffer.buffer);
    this.pool.dropped();
  }

  #recycle(slab: Slab): void {
    slabs.delete(slab.buffer.buffer);
    this.pool.recycle(slab.buffer);
  }

  #untrack(): void {
    if (this.#untracked) return;
    this.#untracked = true;
    this.pool.untrack();
  }

  /** The stream range [start, end) is done with: its bytes may be read into again. */
  release(start: number, end: number): void {
    if (this.#untracked) return;
    for (const slab of [...this.#sealed, this.#active]) {
      const from = Math.max(start, slab.start);
      const to = Math.min(end, slab.start + slab.filled);
      // Bytes released before (twice, or a neighbour's): the accounting is wrong, and reusing
      // nothing more of this socket's memory is the safe answer.
      if (to > from && !addReleased(slab, from, to)) {
        this.#untrack();
        return;
      }
    }
    this.#sealed = this.#sealed.filter((slab) => {
      if (wholeReleased(slab)) {
        this.#recycle(slab);
        return false;
      }
      // Wholly before this response and not all released: responses arrive in order, so what is
      // left in it belonged to one that is never released.
      if (slab.start + slab.filled <= start) {
        this.#drop(slab);
        return false;
      }
      return true;
    });
  }
}

/** Adds [from, to) to the slab's released ranges; false, changing nothing, if it overlaps one. */
function addReleased(slab: Slab, from: number, to: number): boolean {
  const ranges = slab.ranges;
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((ranges[mid] as [number, number])[0] < from) lo = mid + 1;
    else hi = mid;
  }
  const before = ranges[lo - 1];
  const after = ranges[lo];
  if ((before && before[1] > from) || (after && after[0] < to)) return false;
  if (before && before[1] === from) {
    before[1] = to;
    if (after && after[0] === to) {
      before[1] = after[1];
      ranges.splice(lo, 1);
    }
  } else if (after && after[0] === to) {
    after[0] = from;
  } else {
    ranges.splice(lo, 0, [from, to]);
  }
  return true;
}

/**
 * Where a response lies in its socket's stream, from the views the client parsed it from, preceded
 * by `headerBytes` the client read before them (size, correlation id, header tagged fields): a
 * function that releases it, or undefined when its bytes are not in slabs (a socket without them).
 * Called while the response is parsed, when its slabs are still the ones its views were read into.
 */
export function responseRelease(views: readonly Uint8Array[], headerBytes: number): (() => void) | undefined {
  const first = views[0];
  const last = views[views.length - 1];
  if (!first || !last) return undefined;
  const head = slabs.get(first.buffer);
  const tail = slabs.get(last.buffer);
  if (!head || !tail || head.reads !== tail.reads) return undefined;
  const start = head.start + (first.byteOffset - head.buffer.byteOffset) - headerBytes;
  const end = tail.start + (last.byteOffset - tail.buffer.byteOffset) + last.length;
  const reads = head.reads;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    reads.release(start, end);
  };
}

/**
 * What a Connection of @platformatic/kafka adds to its socket's options: the bundled CLI makes its
 * `createConnection` and `tls.connect` calls ask this (scripts/bundle-cli.ts), with the options its
 * client was made with; a client made with `readBuffers` reads into them.
 */
export function socketReadOptions(options: { readBuffers?: unknown } | undefined): { onread?: OnRead } {
  const buffers = options?.readBuffers;
  return buffers instanceof ReadBuffers ? buffers.socketOptions() : {};
}
