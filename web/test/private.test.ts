// The private path against vectors the Rust crates check (test/vectors.json `private`,
// see api/tests/it/the_web_app_encodes_and_verifies_like_the_rust_crates.rs): the
// browser's BHTTP request is the Rust client's byte for byte; its OHTTP and chunked
// OHTTP requests (sealed with a fixed ephemeral key) open at the Rust gateway; the
// responses the Rust gateway sealed open here.

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { decodeResponse, unframeEvent } from '../src/lib/bhttp';
import { hex, unhex, utf8 } from '../src/lib/bytes';
import * as ohttp from '../src/lib/ohttp';
import { toBhttp } from '../src/lib/private';

const path = new URL('./vectors.json', import.meta.url);
const vectors = JSON.parse(readFileSync(path, 'utf8'));
const v = vectors.private;
const config = ohttp.decodeKeyConfig(unhex(v.config));
const ekm = unhex(v.ekm);

describe('private path vectors', () => {
  it('the BHTTP request is the Rust client’s, byte for byte', () => {
    const bytes = toBhttp({ method: 'POST', path: '/v1/chat/completions', body: utf8(v.body), tokens: [unhex(v.token)] });
    expect(hex(bytes)).toBe(v.bhttp);
  });

  it('sealed requests are deterministic with a fixed ephemeral key (and pinned)', async () => {
    const whole = await ohttp.encapsulate(config, unhex(v.bhttp), ekm);
    const chunked = await ohttp.encapsulateChunked(config, unhex(v.bhttp), ekm);
    if (process.env.PLEXUS_BLESS_WEB_VECTORS) {
      v.request = hex(whole.request);
      v.chunked_request = hex(chunked.request);
      writeFileSync(path, JSON.stringify(vectors, null, 2) + '\n');
    }
    expect(hex(whole.request)).toBe(v.request);
    expect(hex(chunked.request)).toBe(v.chunked_request);
  });

  it('the Rust gateway’s sealed answer opens here', async () => {
    const whole = await ohttp.encapsulate(config, unhex(v.bhttp), ekm);
    const opened = await whole.open(unhex(v.response));
    expect(hex(opened)).toBe(v.answer);
    const r = decodeResponse(opened);
    expect(r.status).toBe(200);
    expect(new TextDecoder().decode(r.body)).toBe('{"ok":true}');
  });

  it('the Rust gateway’s chunked answer opens here chunk by chunk', async () => {
    const { reader } = await ohttp.encapsulateChunked(config, unhex(v.bhttp), ekm);
    const bytes = unhex(v.chunked_response);
    const frames: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += 333) {
      reader.push(bytes.subarray(at, at + 333));
      frames.push(...(await reader.chunks()));
    }
    frames.push(...(await reader.finish()));
    const [head, ...events] = frames.map(unframeEvent);
    const h = decodeResponse(head);
    expect(h.status).toBe(200);
    expect(h.headers).toEqual([['content-type', 'text/event-stream']]);
    expect(events.map((e) => new TextDecoder().decode(e))).toEqual(v.events);
  });
});
