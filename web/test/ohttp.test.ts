// OHTTP and chunked OHTTP against a gateway written from the specs here (the Rust
// gateway is exercised by the end-to-end test), BHTTP framing and padding.

import { describe, expect, it } from 'vitest';

import { decodeResponse, encodeRequest, padToBucket, unframeEvent, unframeStream, varint, VarReader, EVENT_FRAME_LEN } from '../src/lib/bhttp';
import { concat, fresh, utf8 } from '../src/lib/bytes';
import * as ohttp from '../src/lib/ohttp';
import { authorizationValue, toBhttp } from '../src/lib/private';

async function gatewayKey() {
  const pair = await ohttp.suite.kem.generateKeyPair();
  const pub = new Uint8Array(await ohttp.suite.kem.serializePublicKey(pair.publicKey));
  const encoded = concat(Uint8Array.of(7, 0x00, 0x20), pub, Uint8Array.of(0, 8, 0, 1, 0, 1, 0, 1, 0, 3));
  return { pair, config: ohttp.decodeKeyConfig(encoded) };
}

async function responseAead(recipient: { export(l: ArrayBuffer, n: number): Promise<ArrayBuffer> }, label: string, enc: Uint8Array, nonce: Uint8Array) {
  const secret = await recipient.export(fresh(utf8(label)).buffer, 16);
  const prk = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits']);
  const salt = fresh(concat(enc, nonce));
  const key = await crypto.subtle.importKey('raw', await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: fresh(utf8('key')) }, prk, 128), 'AES-GCM', false, ['encrypt']);
  const iv = new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: fresh(utf8('nonce')) }, prk, 96));
  let seq = 0;
  return async (pt: Uint8Array, aad: Uint8Array) => {
    const n = fresh(iv);
    n[11] ^= seq++;
    return new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: n, additionalData: fresh(aad) }, key, fresh(pt)));
  };
}

describe('bhttp', () => {
  it('encodes a known-length request as RFC 9292 does, padded to 4 KiB', () => {
    const bytes = encodeRequest({ method: 'POST', scheme: 'https', authority: 'a', path: '/p', headers: [['content-type', 'x']], body: utf8('hi') });
    expect(Array.from(bytes)).toEqual([0, 4, ...utf8('POST'), 5, ...utf8('https'), 1, 97, 2, ...utf8('/p'), 15, 12, ...utf8('content-type'), 1, 120, 2, 104, 105, 0]);
    expect(padToBucket(bytes).length).toBe(4096);
    expect(() => padToBucket(new Uint8Array(300 << 10))).toThrow();
  });

  it('decodes responses, with padding, and refuses non-zero trailing bytes', () => {
    const response = concat(Uint8Array.of(1), varint(200), varint(0), varint(2), utf8('ok'), new Uint8Array(10));
    const r = decodeResponse(response);
    expect(r.status).toBe(200);
    expect(new TextDecoder().decode(r.body)).toBe('ok');
    expect(() => decodeResponse(concat(response, Uint8Array.of(1)))).toThrow();
  });

  it('varints round trip', () => {
    for (const v of [0, 63, 64, 16383, 16384, 2 ** 30 - 1, 2 ** 30, 2 ** 40]) {
      expect(new VarReader(varint(v)).varint()).toBe(v);
    }
  });

  it('event frames are fixed size', () => {
    const frame = new Uint8Array(EVENT_FRAME_LEN);
    new DataView(frame.buffer).setUint32(0, 3);
    frame.set(utf8('abc'), 4);
    expect(new TextDecoder().decode(unframeEvent(frame))).toBe('abc');
    frame[100] = 1;
    expect(() => unframeEvent(frame)).toThrow();
  });

  it('a streamed body ends at the end-of-body frame; empty frames carry nothing', () => {
    const end = new Uint8Array(EVENT_FRAME_LEN);
    new DataView(end.buffer).setUint32(0, 0xffffffff);
    expect(unframeStream(end)).toBe('end');
    const empty = new Uint8Array(EVENT_FRAME_LEN);
    expect(unframeStream(empty)).toEqual(new Uint8Array(0));
    end[10] = 1;
    expect(() => unframeStream(end)).toThrow();
  });

  it('the private request carries only the content type and the tokens', () => {
    const token = new Uint8Array(354).fill(7);
    const bytes = toBhttp({ method: 'POST', path: '/v1/chat/completions', body: utf8('{}'), tokens: [token] });
    const text = new TextDecoder().decode(bytes);
    expect(text).toContain('content-type');
    expect(text).toContain(authorizationValue([token]));
    expect(authorizationValue([token])).toMatch(/^PrivateToken token=[A-Za-z0-9_-]+$/);
    expect(bytes.length).toBe(4096);
  });
});

describe('ohttp', () => {
  it('a whole request opens at the gateway and its response opens here', async () => {
    const { pair, config } = await gatewayKey();
    const pending = await ohttp.encapsulate(config, utf8('request'));
    const req = pending.request;
    expect(Array.from(req.subarray(0, 7))).toEqual([7, 0, 0x20, 0, 1, 0, 1]);
    const enc = req.subarray(7, 39);
    const info = concat(utf8('message/bhttp request'), Uint8Array.of(0), req.subarray(0, 7));
    const recipient = await ohttp.suite.createRecipientContext({ recipientKey: pair.privateKey, enc: fresh(enc).buffer, info: fresh(info) });
    expect(new TextDecoder().decode(await recipient.open(fresh(req.subarray(39)).buffer))).toBe('request');
    const nonce = crypto.getRandomValues(new Uint8Array(16));
    const seal = await responseAead(recipient, 'message/bhttp response', enc, nonce);
    const opened = await pending.open(concat(nonce, await seal(utf8('response'), new Uint8Array(0))));
    expect(new TextDecoder().decode(opened)).toBe('response');
    await expect(pending.open(concat(nonce, new Uint8Array(40)))).rejects.toThrow();
  });

  it('a chunked response opens chunk by chunk, however the bytes arrive, and must end with its final chunk', async () => {
    const { pair, config } = await gatewayKey();
    const { request, reader } = await ohttp.encapsulateChunked(config, utf8('question'));
    const enc = request.subarray(7, 39);
    const info = concat(utf8('message/bhttp chunked request'), Uint8Array.of(0), request.subarray(0, 7));
    const recipient = await ohttp.suite.createRecipientContext({ recipientKey: pair.privateKey, enc: fresh(enc).buffer, info: fresh(info) });
    const r = new VarReader(request.subarray(39));
    const len = r.varint();
    expect(new TextDecoder().decode(await recipient.open(fresh(r.take(len)).buffer, new ArrayBuffer(0)))).toBe('question');
    expect(r.varint()).toBe(0);
    expect((await recipient.open(fresh(r.take(r.remaining())).buffer, fresh(utf8('final')).buffer)).byteLength).toBe(0);

    const nonce = crypto.getRandomValues(new Uint8Array(16));
    const seal = await responseAead(recipient, 'message/bhttp chunked response', enc, nonce);
    const c1 = await seal(utf8('one'), new Uint8Array(0));
    const c2 = await seal(utf8('two'), new Uint8Array(0));
    const last = await seal(new Uint8Array(0), utf8('final'));
    const body = concat(nonce, varint(c1.length), c1, varint(c2.length), c2, varint(0), last);
    const got: string[] = [];
    for (let i = 0; i < body.length; i += 5) {
      reader.push(body.subarray(i, i + 5));
      for (const c of await reader.chunks()) got.push(new TextDecoder().decode(c));
    }
    for (const c of await reader.finish()) got.push(new TextDecoder().decode(c));
    expect(got).toEqual(['one', 'two']);
    expect(reader.done).toBe(true);

    const cut = await ohttp.encapsulateChunked(config, utf8('q'));
    cut.reader.push(nonce);
    await expect(cut.reader.finish()).rejects.toThrow(/cut off/);
  });

  it('key lists skip unsupported configurations', () => {
    const good = concat(Uint8Array.of(1, 0, 0x20), new Uint8Array(32).fill(9), Uint8Array.of(0, 4, 0, 1, 0, 1));
    const other = concat(Uint8Array.of(2, 0, 0x10), new Uint8Array(32), Uint8Array.of(0, 4, 0, 1, 0, 1));
    const list = concat(Uint8Array.of(0, other.length), other, Uint8Array.of(0, good.length), good);
    const configs = ohttp.decodeKeyList(list);
    expect(configs.map((c) => c.keyId)).toEqual([1]);
    expect(() => ohttp.decodeKeyList(Uint8Array.of(0, 50, 1))).toThrow();
  });
});
