// Token issuance as the browser does it (credits.ts): a type 0x0002 challenge naming
// one provider, a blinded request, the issuer's blind signature, a 354-byte token.
// The issuer here is privacypass-ts's; privacy/tests/it checks that one against ours.

import { TokenChallenge, publicVerif, util } from '@cloudflare/privacypass-ts';
import { describe, expect, it } from 'vitest';

import { fresh, hex, utf8 } from '../src/lib/bytes';
import { TOKEN_TYPE, chatBody, creditsFor } from '../src/lib/credits';

import vectorsJson from './vectors.json';

// What the Rust crates charge (api/tests/it/the_web_app_encodes_and_verifies_like_the_rust_crates.rs).
const pricing = (vectorsJson as { pricing: { path: string; body: string; credits: number }[] }).pricing;

describe('privacy pass', () => {
  it('a challenge for one origin encodes as TokenChallenge::for_origin does', () => {
    const c = new TokenChallenge(TOKEN_TYPE, 'plx1issuer', new Uint8Array(0), ['plx1provider']);
    // token_type ‖ u16 len ‖ issuer ‖ u8 ctx len (0) ‖ u16 len ‖ origins
    const want = ['0002', '000a', hex(utf8('plx1issuer')), '00', '000c', hex(utf8('plx1provider'))].join('');
    expect(hex(c.serialize())).toBe(want);
  });

  it('a blinded request is finalized into a token the issuer key verifies', async () => {
    const keys = await publicVerif.Issuer.generateKey(publicVerif.BlindRSAMode.PSS, { modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1) });
    const spki = await publicVerif.getPublicKeyBytes(keys.publicKey);
    const issuer = new publicVerif.Issuer(publicVerif.BlindRSAMode.PSS, 'plx1issuer', keys.privateKey, keys.publicKey);
    const client = new publicVerif.Client(publicVerif.BlindRSAMode.PSS);
    const challenge = new TokenChallenge(TOKEN_TYPE, 'plx1issuer', new Uint8Array(0), ['plx1provider']);
    const request = await client.createTokenRequest(challenge, spki);
    expect(request.serialize().length).toBe(259);
    const response = await issuer.issue(request);
    const token = await client.finalize(client.deserializeTokenResponse(response.serialize()));
    expect(token.serialize().length).toBe(354);
    const origin = new publicVerif.Origin(publicVerif.BlindRSAMode.PSS, ['plx1provider']);
    const verifyKey = await crypto.subtle.importKey('spki', fresh(util.convertRSASSAPSSToEnc(spki)), { name: 'RSA-PSS', hash: 'SHA-384' }, true, ['verify']);
    expect(await origin.verify(token, verifyKey)).toBe(true);
  }, 120_000);

  it('requests cost what the Rust crates charge and look like plexus chat', () => {
    for (const { path, body, credits } of pricing) expect(creditsFor(body, path), `${path} ${body}`).toBe(credits);
    expect(creditsFor(chatBody('m', [], 513))).toBe(2);
    expect(chatBody('m', [{ role: 'user', content: 'hi' }], 256)).toBe(
      '{"max_tokens":256,"messages":[{"content":"hi","role":"user"}],"model":"m","stream":true,"temperature":0}',
    );
  });
});
