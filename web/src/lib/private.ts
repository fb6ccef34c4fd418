// The private path from the browser, mirroring client/src/private.rs: BHTTP inside
// OHTTP, zero-padded to a size bucket, posted to a relay; the inner request carries
// only `content-type` and, when paying, `Authorization: PrivateToken …`.

import { base64urlnopad } from '@scure/base';

import { type BhttpResponse, decodeResponse, encodeRequest, padToBucket, unframeEvent, unframeStream } from './bhttp';
import { unhex } from './bytes';
import * as ohttp from './ohttp';

export interface Route {
  url: string;
  config: ohttp.KeyConfig;
}

/** Through `relay` to the gateway registered by hotkey `target`. */
export function viaRelay(relay: string, target: string, config: ohttp.KeyConfig): Route {
  return { url: `${relay.replace(/\/+$/, '')}/v1/relay/${target}`, config };
}

export interface PlainRequest {
  method: string;
  path: string;
  body: Uint8Array;
  /** Encoded type 0x0002 tokens to spend. */
  tokens: Uint8Array[];
}

export function authorizationValue(tokens: Uint8Array[]): string {
  return tokens.map((t) => `PrivateToken token=${base64urlnopad.encode(t)}`).join(', ');
}

export function toBhttp(r: PlainRequest): Uint8Array {
  const headers: [string, string][] = [['content-type', 'application/json']];
  if (r.tokens.length > 0) headers.push(['authorization', authorizationValue(r.tokens)]);
  return padToBucket(
    encodeRequest({
      method: r.method,
      scheme: 'https',
      authority: 'provider.plexus',
      path: r.path,
      headers,
      body: r.body,
    }),
  );
}

export class RefusedError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${url} refused the encapsulated request: HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

async function post(route: Route, media: string, body: Uint8Array, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(route.url, {
      method: 'POST',
      headers: { 'content-type': media },
      body: body as Uint8Array<ArrayBuffer>,
      signal,
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
      cache: 'no-store',
    });
  } catch (e) {
    throw new Error(`cannot reach ${route.url}: ${String(e)}`);
  }
  if (!res.ok) throw new RefusedError(route.url, res.status, await res.text());
  return res;
}

function checkMedia(res: Response, want: string): void {
  const ct = res.headers.get('content-type') ?? '';
  if (ct.toLowerCase() !== want) throw new Error(`the answer has content type ${JSON.stringify(ct)}, not an OHTTP response`);
}

/** Send `request` and wait for the whole answer. */
export async function send(route: Route, request: PlainRequest): Promise<BhttpResponse> {
  const pending = await ohttp.encapsulate(route.config, toBhttp(request));
  const res = await post(route, ohttp.REQUEST_MEDIA_TYPE, pending.request);
  checkMedia(res, ohttp.RESPONSE_MEDIA_TYPE);
  const opened = await pending.open(new Uint8Array(await res.arrayBuffer()));
  return decodeResponse(opened);
}

export interface StreamedResponse {
  head: BhttpResponse;
  /** Body bytes, frame by frame, as they arrive; ends at the authenticated end-of-body frame. */
  body: AsyncGenerator<Uint8Array>;
}

/** Send `request` and stream the answer back chunk by chunk (chunked OHTTP). */
export async function sendStreamed(route: Route, request: PlainRequest, signal?: AbortSignal): Promise<StreamedResponse> {
  const { request: sealed, reader } = await ohttp.encapsulateChunked(route.config, toBhttp(request));
  const res = await post(route, ohttp.CHUNKED_REQUEST_MEDIA_TYPE, sealed, signal);
  checkMedia(res, ohttp.CHUNKED_RESPONSE_MEDIA_TYPE);
  if (!res.body) throw new Error('the relay sent no body');
  const stream = res.body.getReader();
  const queue: Uint8Array[] = [];
  let ended = false;
  const pump = async (): Promise<void> => {
    const { value, done } = await stream.read();
    if (done) {
      ended = true;
      queue.push(...(await reader.finish()));
      return;
    }
    reader.push(value);
    queue.push(...(await reader.chunks()));
  };
  while (queue.length === 0) {
    if (ended) throw new Error('OHTTP: the answer ended before its head');
    await pump();
  }
  const head = decodeResponse(unframeEvent(queue.shift()!));
  // Once the end-of-body frame arrives the body ends for the caller, but the rest of
  // the answer (padding up to its duration bucket) is still read to its authenticated
  // end: closing the connection early would tell the relay when the answer ended.
  const drain = async (): Promise<void> => {
    while (!ended) {
      queue.length = 0;
      await pump();
    }
    queue.length = 0;
  };
  async function* body(): AsyncGenerator<Uint8Array> {
    for (;;) {
      while (queue.length > 0) {
        const piece = unframeStream(queue.shift()!);
        if (piece === 'end') {
          drain().catch(() => undefined);
          return;
        }
        if (piece.length > 0) yield piece.slice();
      }
      if (ended) return;
      await pump();
    }
  }
  return { head, body: body() };
}

/** Parse OpenAI-style server-sent events; call `onDelta` with each content delta. */
export async function readChatStream(
  body: AsyncGenerator<Uint8Array>,
  onDelta: (text: string) => void,
): Promise<{ text: string; finished: boolean; usage?: Record<string, number> }> {
  const decoder = new TextDecoder();
  let pending = '';
  let text = '';
  let finished = false;
  let usage: Record<string, number> | undefined;
  for await (const piece of body) {
    pending += decoder.decode(piece, { stream: true });
    let end: number;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      const event = pending.slice(0, end);
      pending = pending.slice(end + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') continue;
        const v = JSON.parse(data) as {
          choices?: { delta?: { content?: string }; finish_reason?: string | null }[];
          usage?: Record<string, number>;
        };
        const delta = v.choices?.[0]?.delta?.content;
        if (typeof delta === 'string') {
          text += delta;
          onDelta(delta);
        }
        if (typeof v.choices?.[0]?.finish_reason === 'string') finished = true;
        if (v.usage) usage = v.usage;
      }
    }
  }
  return { text, finished, usage };
}

export function decodeConfigList(hexList: string): ohttp.KeyConfig[] {
  return ohttp.decodeKeyList(unhex(hexList));
}
