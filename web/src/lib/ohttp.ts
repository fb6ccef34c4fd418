// Oblivious HTTP (RFC 9458) and chunked OHTTP (draft-ietf-ohai-chunked-ohttp), client
// side, as the Rust `ohttp` 0.8 crate behind privacy/src/oblivious.rs and chunked.rs
// speaks them: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM.

import { Aes128Gcm, CipherSuite, HkdfSha256, type SenderContext } from '@hpke/core';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';

import { concat, fresh, utf8 } from './bytes';
import { VarReader, varint } from './bhttp';

export const REQUEST_MEDIA_TYPE = 'message/ohttp-req';
export const RESPONSE_MEDIA_TYPE = 'message/ohttp-res';
export const CHUNKED_REQUEST_MEDIA_TYPE = 'message/ohttp-chunked-req';
export const CHUNKED_RESPONSE_MEDIA_TYPE = 'message/ohttp-chunked-res';

const KEM_X25519 = 0x0020;
const KDF_HKDF_SHA256 = 0x0001;
const AEAD_AES128GCM = 0x0001;
const NK = 16;
const NN = 12;
const NT = 16;
/** max(Nn, Nk) for AES-128-GCM. */
const RESPONSE_NONCE_LEN = 16;
const MAX_CHUNK_PLAINTEXT = 1 << 14;

export const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Aes128Gcm(),
});

export interface KeyConfig {
  keyId: number;
  publicKey: Uint8Array;
  encoded: Uint8Array;
}

/** Decode one key configuration; only X25519 configs offering HKDF-SHA256/AES-128-GCM. */
export function decodeKeyConfig(encoded: Uint8Array): KeyConfig {
  if (encoded.length < 41) throw new Error('OHTTP key configuration is truncated');
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  if (view.getUint16(1) !== KEM_X25519) throw new Error('OHTTP key: unsupported KEM');
  const suitesLen = view.getUint16(35);
  if (suitesLen === 0 || suitesLen % 4 !== 0 || encoded.length !== 37 + suitesLen) {
    throw new Error('malformed OHTTP key configuration');
  }
  let ok = false;
  for (let at = 37; at < encoded.length; at += 4) {
    if (view.getUint16(at) === KDF_HKDF_SHA256 && view.getUint16(at + 2) === AEAD_AES128GCM) ok = true;
  }
  if (!ok) throw new Error('OHTTP key: no supported symmetric suite');
  return { keyId: encoded[0], publicKey: encoded.slice(3, 35), encoded: encoded.slice() };
}

/** Decode an `application/ohttp-keys` list, skipping unsupported configurations. */
export function decodeKeyList(body: Uint8Array): KeyConfig[] {
  const out: KeyConfig[] = [];
  let at = 0;
  while (at < body.length) {
    if (at + 2 > body.length) throw new Error('malformed OHTTP key list');
    const len = (body[at] << 8) | body[at + 1];
    const item = body.subarray(at + 2, at + 2 + len);
    if (item.length !== len) throw new Error('malformed OHTTP key list');
    try {
      out.push(decodeKeyConfig(item));
    } catch {
      // unsupported: skip, as the Rust decoder does
    }
    at += 2 + len;
  }
  if (out.length === 0) throw new Error('no supported OHTTP key configuration');
  return out;
}

function requestHeader(keyId: number): Uint8Array {
  const h = new Uint8Array(7);
  const v = new DataView(h.buffer);
  h[0] = keyId;
  v.setUint16(1, KEM_X25519);
  v.setUint16(3, KDF_HKDF_SHA256);
  v.setUint16(5, AEAD_AES128GCM);
  return h;
}

interface Sealed {
  enc: Uint8Array;
  sender: SenderContext;
  header: Uint8Array;
}

async function setUp(config: KeyConfig, label: string, ekm?: Uint8Array): Promise<Sealed> {
  const header = requestHeader(config.keyId);
  const info = concat(utf8(label), Uint8Array.of(0), header);
  const recipientPublicKey = await suite.kem.deserializePublicKey(fresh(config.publicKey).buffer);
  const sender = await suite.createSenderContext({
    recipientPublicKey,
    info: fresh(info),
    ...(ekm ? { ekm: fresh(ekm) } : {}),
  });
  return { enc: new Uint8Array(sender.enc), sender, header };
}

/** Key and IV of the response AEAD: HKDF(salt = enc ‖ nonce, secret) → "key", "nonce". */
async function responseKey(secret: ArrayBuffer, enc: Uint8Array, nonce: Uint8Array): Promise<{ key: CryptoKey; iv: Uint8Array }> {
  const prk = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits']);
  const salt = fresh(concat(enc, nonce));
  const bits = async (info: string, n: number) =>
    new Uint8Array(
      await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: fresh(utf8(info)) }, prk, n * 8),
    );
  const keyBytes = await bits('key', NK);
  const iv = await bits('nonce', NN);
  const key = await crypto.subtle.importKey('raw', fresh(keyBytes), 'AES-GCM', false, ['decrypt']);
  return { key, iv };
}

function nonceFor(iv: Uint8Array, seq: number): Uint8Array<ArrayBuffer> {
  const out = fresh(iv);
  let s = seq;
  for (let i = out.length - 1; i >= 0 && s > 0; i--) {
    out[i] ^= s & 0xff;
    s = Math.floor(s / 256);
  }
  return out;
}

async function open(key: CryptoKey, iv: Uint8Array, seq: number, ct: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: nonceFor(iv, seq), additionalData: fresh(aad), tagLength: NT * 8 },
        key,
        fresh(ct),
      ),
    );
  } catch {
    throw new Error('OHTTP: the response does not decrypt');
  }
}

/** A sealed request and the means to open its (whole) response. */
export interface PendingResponse {
  request: Uint8Array;
  open(response: Uint8Array): Promise<Uint8Array>;
}

export async function encapsulate(config: KeyConfig, plaintext: Uint8Array, ekm?: Uint8Array): Promise<PendingResponse> {
  const { enc, sender, header } = await setUp(config, 'message/bhttp request', ekm);
  const ct = new Uint8Array(await sender.seal(fresh(plaintext).buffer));
  const secret = await sender.export(fresh(utf8('message/bhttp response')).buffer, RESPONSE_NONCE_LEN);
  return {
    request: concat(header, enc, ct),
    async open(response) {
      if (response.length < RESPONSE_NONCE_LEN + NT) throw new Error('OHTTP: response truncated');
      const nonce = response.subarray(0, RESPONSE_NONCE_LEN);
      const { key, iv } = await responseKey(secret, enc, nonce);
      return open(key, iv, 0, response.subarray(RESPONSE_NONCE_LEN), new Uint8Array(0));
    },
  };
}

/** A sealed chunked request and a reader for its chunked response. */
export interface PendingChunked {
  request: Uint8Array;
  reader: ChunkedResponseReader;
}

export async function encapsulateChunked(config: KeyConfig, plaintext: Uint8Array, ekm?: Uint8Array): Promise<PendingChunked> {
  const { enc, sender, header } = await setUp(config, 'message/bhttp chunked request', ekm);
  const parts: Uint8Array[] = [header, enc];
  for (let at = 0; at < plaintext.length; at += MAX_CHUNK_PLAINTEXT) {
    const piece = plaintext.subarray(at, at + MAX_CHUNK_PLAINTEXT);
    const ct = new Uint8Array(await sender.seal(fresh(piece).buffer, new ArrayBuffer(0)));
    parts.push(varint(ct.length), ct);
  }
  const last = new Uint8Array(await sender.seal(new ArrayBuffer(0), fresh(utf8('final')).buffer));
  parts.push(varint(0), last);
  const secret = await sender.export(fresh(utf8('message/bhttp chunked response')).buffer, RESPONSE_NONCE_LEN);
  return { request: concat(...parts), reader: new ChunkedResponseReader(secret, enc) };
}

/**
 * Push response bytes as they arrive; take out plaintext chunks. The final chunk
 * (length 0, AAD "final") runs to the end of the body, so it opens on `finish()`.
 */
export class ChunkedResponseReader {
  private buf: Uint8Array = new Uint8Array(0);
  private aead?: { key: CryptoKey; iv: Uint8Array };
  private seq = 0;
  private finalSeen = false;
  done = false;

  constructor(
    private readonly secret: ArrayBuffer,
    private readonly enc: Uint8Array,
  ) {}

  push(bytes: Uint8Array): void {
    if (this.buf.length + bytes.length > 1 << 20) throw new Error('OHTTP: too much buffered');
    this.buf = concat(this.buf, bytes);
  }

  /** Every chunk complete so far. */
  async chunks(): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    if (!this.aead) {
      if (this.buf.length < RESPONSE_NONCE_LEN) return out;
      this.aead = await responseKey(this.secret, this.enc, this.buf.subarray(0, RESPONSE_NONCE_LEN));
      this.buf = this.buf.slice(RESPONSE_NONCE_LEN);
    }
    while (!this.finalSeen && this.buf.length > 0) {
      const r = new VarReader(this.buf);
      let len: number;
      try {
        len = r.varint();
      } catch {
        break;
      }
      if (len === 0) {
        this.finalSeen = true;
        this.buf = this.buf.slice(r.at);
        break;
      }
      if (len > MAX_CHUNK_PLAINTEXT + NT) throw new Error('OHTTP: chunk too large');
      if (r.remaining() < len) break;
      const ct = r.take(len);
      out.push(await open(this.aead.key, this.aead.iv, this.seq++, ct, new Uint8Array(0)));
      this.buf = this.buf.slice(r.at);
    }
    return out;
  }

  /** The body ended: authenticate the final chunk (its plaintext, usually empty). */
  async finish(): Promise<Uint8Array[]> {
    const out = await this.chunks();
    if (!this.aead || !this.finalSeen) throw new Error('OHTTP: the response was cut off before its final chunk');
    const last = await open(this.aead.key, this.aead.iv, this.seq++, this.buf, utf8('final'));
    this.buf = new Uint8Array(0);
    this.done = true;
    if (last.length > 0) out.push(last);
    return out;
  }
}
