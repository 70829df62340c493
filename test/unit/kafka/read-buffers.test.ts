import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { describe, it } from 'node:test';
import {
  MAX_PENDING_SLABS,
  ReadBuffers,
  responseRelease,
  socketReadOptions,
} from '../../../runtime/kafka/read-buffers.ts';

/**
 * Real sockets on loopback: a server writes length-prefixed frames (a 4-byte size, as Kafka's
 * responses start), the client reads them into ReadBuffers' slabs and splits them as the Kafka client
 * does, keeping views of the chunks it was given.
 */

interface Frame {
  readonly views: Buffer[];
  readonly release: (() => void) | undefined;
}

/** Splits a socket's chunks into frames without copying: each frame is views of the chunks. */
class Framer {
  #chunks: Buffer[] = [];
  #length = 0;

  push(chunk: Buffer): Buffer[][] {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    const frames: Buffer[][] = [];
    while (this.#length >= 4) {
      const size = Buffer.concat(this.#take(4, false)).readUInt32BE(0);
      if (this.#length < 4 + size) break;
      this.#take(4, true);
      frames.push(this.#take(size, true));
    }
    return frames;
  }

  /** The first `n` bytes as views; consumed when `consume`. */
  #take(n: number, consume: boolean): Buffer[] {
    const views: Buffer[] = [];
    let left = n;
    let i = 0;
    while (left > 0) {
      const chunk = this.#chunks[i++] as Buffer;
      views.push(chunk.subarray(0, Math.min(left, chunk.length)));
      left -= Math.min(left, chunk.length);
    }
    if (consume) {
      let drop = n;
      while (drop > 0) {
        const chunk = this.#chunks[0] as Buffer;
        if (chunk.length <= drop) {
          drop -= chunk.length;
          this.#chunks.shift();
        } else {
          this.#chunks[0] = chunk.subarray(drop);
          drop = 0;
        }
      }
      this.#length -= n;
    }
    return views;
  }
}

/** Sends `frames` to a client reading into `buffers`; `onFrame` sees each as it is split off. */
async function exchange(
  buffers: ReadBuffers,
  frames: readonly Buffer[],
  onFrame: (frame: Frame, index: number) => void,
): Promise<void> {
  const server = createServer((socket) => {
    for (const f of frames) {
      const size = Buffer.alloc(4);
      size.writeUInt32BE(f.length);
      socket.write(size);
      socket.write(f);
    }
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = createConnection({ port, host: '127.0.0.1', ...buffers.socketOptions() });
      const framer = new Framer();
      let index = 0;
      socket.on('data', (chunk: Buffer) => {
        for (const views of framer.push(chunk))
          onFrame({ views, release: responseRelease(views, 4) }, index++);
      });
      socket.on('error', reject);
      socket.on('close', () => (index === frames.length ? resolve() : reject(new Error(`${index} frames`))));
    });
  } finally {
    server.close();
  }
}

const frames = (count: number, size: (i: number) => number) =>
  Array.from({ length: count }, (_, i) => randomBytes(size(i)));

describe('ReadBuffers', () => {
  it('delivers every byte, and reads into the slabs of released responses again', async () => {
    const buffers = new ReadBuffers(64 * 1024, 4, 16 * 1024);
    const sent = frames(300, (i) => 1 + ((i * 7919) % 40_000));
    const received: Buffer[] = [];
    await exchange(buffers, sent, (frame) => {
      received.push(Buffer.concat(frame.views));
      assert.ok(frame.release, 'a frame read into slabs can be released');
      frame.release();
    });
    assert.deepEqual(received, sent);
    const stats = buffers.stats;
    const total = sent.reduce((n, f) => n + 4 + f.length, 0);
    assert.equal(stats.bytesRead, total);
    assert.ok(stats.reused > 50, `slabs reused: ${JSON.stringify(stats)}`);
    assert.ok(stats.allocated <= 4, `slabs allocated: ${JSON.stringify(stats)}`);
    assert.equal(stats.untracked, 0);
  });

  it('never reads into the bytes of a response that was not released', async () => {
    const buffers = new ReadBuffers(64 * 1024, 4, 16 * 1024);
    const sent = frames(300, (i) => 1 + ((i * 104_729) % 30_000));
    const kept = new Map<number, Buffer[]>();
    await exchange(buffers, sent, (frame, i) => {
      // A decoded fetch or a metadata response: views kept, never released.
      if (i % 50 === 3) kept.set(i, frame.views);
      else frame.release?.();
    });
    for (const [i, views] of kept) assert.deepEqual(Buffer.concat(views), sent[i], `frame ${i}`);
    const stats = buffers.stats;
    assert.ok(stats.dropped >= kept.size - 1, `slabs dropped: ${JSON.stringify(stats)}`);
    assert.ok(stats.reused > 20, `slabs reused: ${JSON.stringify(stats)}`);
  });

  it('keeps a response whose release comes late intact, and lets it go then', async () => {
    const buffers = new ReadBuffers(64 * 1024, 4, 16 * 1024);
    const sent = frames(200, () => 20_000);
    const late: Frame[] = [];
    await exchange(buffers, sent, (frame, i) => {
      // Two requests in flight on one connection: each response released after the next arrives.
      late.push(frame);
      if (i > 0) (late[i - 1] as Frame).release?.();
      if (i > 0) assert.deepEqual(Buffer.concat(frame.views), sent[i]);
    });
    (late.at(-1) as Frame).release?.();
    assert.ok(buffers.stats.reused > 20, JSON.stringify(buffers.stats));
  });

  it('waits on no more than MAX_PENDING_SLABS slabs for what is never released', async () => {
    const buffers = new ReadBuffers(64 * 1024, 4, 16 * 1024);
    const sent = frames(300, () => 20_000);
    const received: Buffer[] = [];
    // Produce acknowledgements or decoded fetches: never released.
    await exchange(buffers, sent, (frame) => received.push(Buffer.concat(frame.views)));
    assert.deepEqual(received, sent);
    const { allocated, dropped, reused } = buffers.stats;
    assert.equal(reused, 0);
    assert.ok(allocated > MAX_PENDING_SLABS + 40, JSON.stringify(buffers.stats));
    // All but the active slab and the pending ones were let go.
    assert.equal(dropped, allocated - 1 - MAX_PENDING_SLABS);
  });

  it('releases a response once, however often asked', async () => {
    const buffers = new ReadBuffers(64 * 1024, 4, 16 * 1024);
    const sent = frames(40, () => 10_000);
    const received: Buffer[] = [];
    await exchange(buffers, sent, (frame) => {
      received.push(Buffer.concat(frame.views));
      frame.release?.();
      frame.release?.();
    });
    assert.deepEqual(received, sent);
  });

  // A release the accounting must refuse: the same bytes twice, or one byte of a neighbour that was
  // released (a header miscounted by one, which a count of bytes alone would miss). Either is seen
  // at once, stops the socket's reuse, and every byte, kept ones included, still arrives whole.
  for (const [what, at, headerBytes, alsoReleasedAsUsual] of [
    ['the same range twice', 20, 4, true],
    ['a range reaching one byte into a released neighbour', 21, 5, false],
  ] as const) {
    it(`stops reusing a socket's slabs on ${what}, and still delivers every byte`, async () => {
      const buffers = new ReadBuffers(64 * 1024, 4, 16 * 1024);
      const sent = frames(200, () => 7_000);
      const received: Buffer[] = [];
      const kept = new Map<number, Buffer[]>();
      await exchange(buffers, sent, (frame, i) => {
        received.push(Buffer.concat(frame.views));
        if (i % 40 === 30) kept.set(i, frame.views);
        else if (i !== at || alsoReleasedAsUsual) frame.release?.();
        if (i === at) {
          responseRelease(frame.views, headerBytes)?.();
          assert.equal(buffers.stats.untracked, 1, 'seen at once, not when the slab fills up');
        }
      });
      assert.deepEqual(received, sent);
      for (const [i, views] of kept) assert.deepEqual(Buffer.concat(views), sent[i], `frame ${i}`);
      assert.equal(buffers.stats.untracked, 1);
    });
  }

  it('delivers a read that lands outside the room it offered as a copy, and stops reusing', () => {
    const buffers = new ReadBuffers(64 * 1024, 4, 16 * 1024);
    const { onread } = buffers.socketOptions();
    const socket = new EventEmitter();
    const got: Buffer[] = [];
    socket.on('data', (d: Buffer) => got.push(d));
    onread.buffer();
    const elsewhere = Buffer.from('not in a slab');
    assert.equal(onread.callback.call(socket, 6, elsewhere), true);
    elsewhere.fill(0); // a copy: the room may be read into again
    assert.deepEqual(got, [Buffer.from('not in')]);
    assert.equal(buffers.stats.untracked, 1);
  });

  it('has nothing to release for bytes that are not in its slabs', () => {
    assert.equal(responseRelease([Buffer.from('abc')], 4), undefined);
    assert.equal(responseRelease([], 4), undefined);
  });

  it('gives a socket onread only to a client made with readBuffers', () => {
    assert.deepEqual(socketReadOptions({}), {});
    assert.deepEqual(socketReadOptions(undefined), {});
    assert.deepEqual(socketReadOptions({ readBuffers: 'yes' }), {});
    const { onread } = socketReadOptions({ readBuffers: new ReadBuffers() });
    assert.ok(onread);
    assert.ok(onread.buffer().length >= 64 * 1024);
  });
});
