// Drive @cloudflare/privacypass-ts (type 0x0002, Blind RSA 2048) for the plexus-privacy
// interop test (privacy/tests/it/cloudflare_privacypass_ts_*.rs).
//
// Line protocol on stdin/stdout, one request per line, one reply per line:
//
//   request: <op> key=value key=value ...
//   reply:   ok key=value key=value ...   |   err <message>
//
// Every value is lowercase hex (strings and the decimal `id` as their UTF-8 bytes),
// except the flags `true`/`false`. An empty value is allowed (`origin_info=`).
//
// Ops:
//   hello                                          -> version (of privacypass-ts, hex)
//   token_key token_key                            -> reencoded key_id truncated_key_id
//   encode_challenge issuer_name redemption_context origin_info
//                                                  -> challenge (built by an Origin)
//   decode_challenge challenge                     -> token_type issuer_name
//                                                     redemption_context origin_info reencoded
//   decode_token_request token_request             -> token_type truncated_key_id reencoded
//   verify token token_key issuer_name redemption_context origin_info
//                                                  -> signature challenge key_id valid
//                                                     reencoded authorization
//   parse_authorization authorization              -> tokens (comma-separated hex)
//   request token_key challenge                    -> id token_request
//   finalize id token_response                     -> token authorization

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

import {
  AuthorizationHeader,
  Token,
  TokenChallenge,
  TOKEN_TYPES,
  publicVerif,
  util,
} from '@cloudflare/privacypass-ts';

const { BlindRSAMode, Client, Origin, TokenRequest, TokenResponse, getPublicKeyBytes } =
  publicVerif;
const BLIND_RSA = TOKEN_TYPES.BLIND_RSA;
// RFC 9578 type 0x0002: RSABSSA-SHA384-PSS-Deterministic (48-byte salt).
const MODE = BlindRSAMode.PSS;

const VERSION = JSON.parse(
  readFileSync(
    new URL('./node_modules/@cloudflare/privacypass-ts/package.json', import.meta.url),
    'utf8',
  ),
).version;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

// A fresh Uint8Array over its own ArrayBuffer: privacypass-ts 0.8.1 decoders read
// `bytes.buffer` from offset 0 and ignore `byteOffset`, so views into a shared buffer
// (as small Node Buffers are) would decode the wrong bytes.
function unhex(value, name) {
  if (value === undefined) {
    throw new Error(`missing ${name}`);
  }
  if (!/^(?:[0-9a-f]{2})*$/.test(value)) {
    throw new Error(`${name} is not lowercase hex`);
  }
  return new Uint8Array(Buffer.from(value, 'hex'));
}

function hex(bytes) {
  return Buffer.from(bytes).toString('hex');
}

function unhexString(value, name) {
  return fromUtf8.decode(unhex(value, name));
}

// Origins travel comma-joined, as in the wire encoding; empty means none.
function originList(value) {
  const joined = unhexString(value, 'origin_info');
  return joined === '' ? undefined : joined.split(',');
}

function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

// The issuer key as a WebCrypto verification key, the way privacypass-ts's client
// imports it: RSASSA-PSS SPKI -> rsaEncryption SPKI -> RSA-PSS/SHA-384.
function importTokenKey(tokenKey) {
  return crypto.subtle.importKey(
    'spki',
    util.convertRSASSAPSSToEnc(tokenKey),
    BLIND_RSA.rsaParams,
    true,
    ['verify'],
  );
}

function decodeToken(bytes) {
  if (bytes.length !== 2 + 32 + 32 + BLIND_RSA.Nid + BLIND_RSA.Nk) {
    throw new Error(`token must be ${2 + 32 + 32 + BLIND_RSA.Nid + BLIND_RSA.Nk} bytes`);
  }
  return Token.deserialize(BLIND_RSA, bytes);
}

const clients = new Map();
let nextClient = 0;

const ops = {
  hello() {
    return { version: hex(utf8.encode(VERSION)) };
  },

  async token_key(args) {
    const tokenKey = unhex(args.token_key, 'token_key');
    const key = await importTokenKey(tokenKey);
    const keyId = await sha256(tokenKey);
    return {
      reencoded: hex(await getPublicKeyBytes(key)),
      key_id: hex(keyId),
      truncated_key_id: hex([keyId[keyId.length - 1]]),
    };
  },

  encode_challenge(args) {
    const origin = new Origin(MODE, originList(args.origin_info));
    const challenge = origin.createTokenChallenge(
      unhexString(args.issuer_name, 'issuer_name'),
      unhex(args.redemption_context, 'redemption_context'),
    );
    return { challenge: hex(challenge.serialize()) };
  },

  decode_challenge(args) {
    const challenge = TokenChallenge.deserialize(unhex(args.challenge, 'challenge'));
    return {
      token_type: hex([challenge.tokenType >> 8, challenge.tokenType & 0xff]),
      issuer_name: hex(utf8.encode(challenge.issuerName)),
      redemption_context: hex(challenge.redemptionContext),
      origin_info: hex(utf8.encode((challenge.originInfo ?? []).join(','))),
      reencoded: hex(challenge.serialize()),
    };
  },

  decode_token_request(args) {
    const bytes = unhex(args.token_request, 'token_request');
    if (bytes.length !== 3 + BLIND_RSA.Nk) {
      throw new Error(`token request must be ${3 + BLIND_RSA.Nk} bytes`);
    }
    const request = TokenRequest.deserialize(BLIND_RSA, bytes);
    return {
      token_type: hex([request.tokenType >> 8, request.tokenType & 0xff]),
      truncated_key_id: hex([request.truncatedTokenKeyId]),
      reencoded: hex(request.serialize()),
    };
  },

  // What an origin built on privacypass-ts checks: the signature (Origin.verify), and
  // that the token names this origin's challenge and the issuer's key id (Origin.verify
  // leaves both to the caller).
  async verify(args) {
    const tokenKey = unhex(args.token_key, 'token_key');
    const token = decodeToken(unhex(args.token, 'token'));
    const origin = new Origin(MODE, originList(args.origin_info));
    const challenge = origin.createTokenChallenge(
      unhexString(args.issuer_name, 'issuer_name'),
      unhex(args.redemption_context, 'redemption_context'),
    );
    const signature = await origin.verify(token, await importTokenKey(tokenKey));
    const challengeOk = equal(token.authInput.challengeDigest, await sha256(challenge.serialize()));
    const keyIdOk = equal(token.authInput.tokenKeyId, await sha256(tokenKey));
    return {
      signature: String(signature),
      challenge: String(challengeOk),
      key_id: String(keyIdOk),
      valid: String(signature && challengeOk && keyIdOk),
      reencoded: hex(token.serialize()),
      authorization: hex(utf8.encode(new AuthorizationHeader(token).toString())),
    };
  },

  parse_authorization(args) {
    const headers = AuthorizationHeader.parse(
      BLIND_RSA,
      unhexString(args.authorization, 'authorization'),
    );
    if (headers.length === 0) {
      throw new Error('no PrivateToken credentials');
    }
    return { tokens: headers.map((h) => hex(h.token.serialize())).join(',') };
  },

  async request(args) {
    const client = new Client(MODE);
    const challenge = TokenChallenge.deserialize(unhex(args.challenge, 'challenge'));
    const request = await client.createTokenRequest(
      challenge,
      unhex(args.token_key, 'token_key'),
    );
    const id = nextClient++;
    clients.set(id, client);
    return { id: hex(utf8.encode(String(id))), token_request: hex(request.serialize()) };
  },

  async finalize(args) {
    const id = Number(unhexString(args.id, 'id'));
    const client = clients.get(id);
    if (client === undefined) {
      throw new Error(`no pending request ${id}`);
    }
    clients.delete(id);
    const response = client.deserializeTokenResponse(
      unhex(args.token_response, 'token_response'),
    );
    const token = await client.finalize(response);
    return {
      token: hex(token.serialize()),
      authorization: hex(utf8.encode(new AuthorizationHeader(token).toString())),
    };
  },
};

function parse(line) {
  const [op, ...rest] = line.trim().split(/ +/);
  const args = {};
  for (const pair of rest) {
    const at = pair.indexOf('=');
    if (at < 1) {
      throw new Error(`argument ${pair} is not key=value`);
    }
    args[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return { op, args };
}

function format(fields) {
  return ['ok', ...Object.entries(fields).map(([k, v]) => `${k}=${v}`)].join(' ');
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === '') {
    continue;
  }
  let reply;
  try {
    const { op, args } = parse(line);
    const handler = Object.hasOwn(ops, op) ? ops[op] : undefined;
    if (handler === undefined) {
      throw new Error(`unknown op ${op}`);
    }
    reply = format(await handler(args));
  } catch (e) {
    reply = `err ${String(e?.message ?? e).replace(/\s+/g, ' ')}`;
  }
  process.stdout.write(`${reply}\n`);
}
