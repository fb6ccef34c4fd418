// Binary HTTP (RFC 9292), known-length, as privacy/src/message.rs (the `bhttp` crate)
// writes and reads it; requests zero-padded to a size bucket (privacy/src/padding.rs).

import { concat, utf8 } from './bytes';

export const BUCKETS = [4 << 10, 16 << 10, 64 << 10, 256 << 10];
export const EVENT_FRAME_LEN = 1024;
export const MAX_EVENT_LEN = EVENT_FRAME_LEN - 4;

/** QUIC variable-length integer (RFC 9000 section 16). */
export function varint(v: number): Uint8Array {
  if (v < 1 << 6) return Uint8Array.of(v);
  if (v < 1 << 14) return Uint8Array.of(0x40 | (v >> 8), v & 0xff);
  if (v < 2 ** 30) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, (v | 0x8000_0000) >>> 0);
    return b;
  }
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v) | (3n << 62n));
  return b;
}

export class VarReader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}

  remaining(): number {
    return this.bytes.length - this.at;
  }
  varint(): number {
    if (this.at >= this.bytes.length) throw new Error('BHTTP: truncated');
    const first = this.bytes[this.at];
    const len = 1 << (first >> 6);
    if (this.at + len > this.bytes.length) throw new Error('BHTTP: truncated');
    let v = first & 0x3f;
    for (let i = 1; i < len; i++) v = v * 256 + this.bytes[this.at + i];
    this.at += len;
    return v;
  }
  take(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) throw new Error('BHTTP: truncated');
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  vec(): Uint8Array {
    return this.take(this.varint());
  }
}

const vec = (b: Uint8Array) => concat(varint(b.length), b);

export interface BhttpRequest {
  method: string;
  scheme: string;
  authority: string;
  path: string;
  headers: [string, string][];
  body: Uint8Array;
}

export function encodeRequest(r: BhttpRequest): Uint8Array {
  const fields = concat(...r.headers.map(([n, v]) => concat(vec(utf8(n)), vec(utf8(v)))));
  return concat(
    varint(0),
    vec(utf8(r.method)),
    vec(utf8(r.scheme)),
    vec(utf8(r.authority)),
    vec(utf8(r.path)),
    vec(fields),
    vec(r.body),
    varint(0),
  );
}

export interface BhttpResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

function fieldSection(r: VarReader): [string, string][] {
  const section = new VarReader(r.vec());
  const out: [string, string][] = [];
  const text = new TextDecoder();
  while (section.remaining() > 0) {
    const name = text.decode(section.vec());
    out.push([name, text.decode(section.vec())]);
  }
  return out;
}

/** Decode a known-length response, allowing trailing zero padding (and absent trailers). */
export function decodeResponse(bytes: Uint8Array): BhttpResponse {
  const r = new VarReader(bytes);
  if (r.varint() !== 1) throw new Error('BHTTP: not a known-length response');
  let status = r.varint();
  while (status >= 100 && status < 200) {
    fieldSection(r);
    status = r.varint();
  }
  if (status < 200 || status > 599) throw new Error(`BHTTP: invalid status ${status}`);
  const headers = fieldSection(r);
  const body = r.remaining() > 0 ? r.vec().slice() : new Uint8Array(0);
  if (r.remaining() > 0) fieldSection(r);
  if (r.bytes.subarray(r.at).some((b) => b !== 0)) throw new Error('BHTTP: non-zero bytes after the message');
  return { status, headers, body };
}

export function header(r: BhttpResponse, name: string): string | undefined {
  return r.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

/** Pad with zeros to the smallest bucket that holds the message. */
export function padToBucket(bytes: Uint8Array): Uint8Array {
  const bucket = BUCKETS.find((b) => bytes.length <= b);
  if (bucket === undefined) throw new Error('the request is too large to send privately');
  const out = new Uint8Array(bucket);
  out.set(bytes);
  return out;
}

/** The event inside a fixed-size frame (a 4-byte big-endian length, the event, zeros). */
export function unframeEvent(frame: Uint8Array): Uint8Array {
  if (frame.length !== EVENT_FRAME_LEN) throw new Error('malformed event frame');
  const len = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0);
  if (len > MAX_EVENT_LEN) throw new Error('malformed event frame');
  if (frame.subarray(4 + len).some((b) => b !== 0)) throw new Error('non-zero padding');
  return frame.subarray(4, 4 + len);
}

/** The length prefix of the frame that ends a streamed body (privacy/src/padding.rs). */
const END_OF_BODY = 0xffffffff;

/**
 * One frame of a streamed body: body bytes (possibly none), or `'end'` for the
 * end-of-body frame, after which only padding frames follow.
 */
export function unframeStream(frame: Uint8Array): Uint8Array | 'end' {
  if (frame.length === EVENT_FRAME_LEN && new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0) === END_OF_BODY) {
    if (frame.subarray(4).some((b) => b !== 0)) throw new Error('non-zero padding');
    return 'end';
  }
  return unframeEvent(frame);
}
