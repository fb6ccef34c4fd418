// Local, encrypted storage. Everything lives in this browser's IndexedDB, sealed with
// AES-256-GCM under a key WebCrypto created non-extractable: script can use it but
// nobody can read it out, and no server ever sees these records.

const DB = 'plexus';
const VERSION = 1;
const KEYS = 'keys';
const SEALED = 'sealed';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

let dbPromise: Promise<IDBDatabase> | undefined;
function db(): Promise<IDBDatabase> {
  dbPromise ??= new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, VERSION);
    open.onupgradeneeded = () => {
      open.result.createObjectStore(KEYS);
      open.result.createObjectStore(SEALED);
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  return dbPromise;
}

async function tx<T>(store: string, mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const d = await db();
  return request(f(d.transaction(store, mode).objectStore(store)));
}

let keyPromise: Promise<CryptoKey> | undefined;
/** The device key: created once, non-extractable, kept as a CryptoKey object in IndexedDB. */
export function deviceKey(): Promise<CryptoKey> {
  keyPromise ??= (async () => {
    const existing = await tx<CryptoKey | undefined>(KEYS, 'readonly', (s) => s.get('device'));
    if (existing) return existing;
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    await tx(KEYS, 'readwrite', (s) => s.put(key, 'device'));
    return key;
  })();
  return keyPromise;
}

interface SealedRecord {
  iv: Uint8Array;
  ct: ArrayBuffer;
}

/** Seal `value` (JSON) under the device key, bound to its id. */
export async function put(id: string, value: unknown): Promise<void> {
  const key = await deviceKey();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify(value));
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(id) }, key, plain);
  await tx(SEALED, 'readwrite', (s) => s.put({ iv, ct } satisfies SealedRecord, id));
}

export async function getValue<T>(id: string): Promise<T | undefined> {
  const rec = await tx<SealedRecord | undefined>(SEALED, 'readonly', (s) => s.get(id));
  if (!rec) return undefined;
  const key = await deviceKey();
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: new Uint8Array(rec.iv), additionalData: new TextEncoder().encode(id) },
    key,
    rec.ct,
  );
  return JSON.parse(new TextDecoder().decode(plain)) as T;
}

export async function remove(id: string): Promise<void> {
  await tx(SEALED, 'readwrite', (s) => s.delete(id));
}

/** Ids with `prefix` (the ids themselves are not secret: random conversation ids). */
export async function ids(prefix: string): Promise<string[]> {
  const all = (await tx(SEALED, 'readonly', (s) => s.getAllKeys())) as string[];
  return all.filter((k) => typeof k === 'string' && k.startsWith(prefix));
}

/** The raw sealed record, to show that what is stored is ciphertext. */
export async function rawRecord(id: string): Promise<SealedRecord | undefined> {
  return tx<SealedRecord | undefined>(SEALED, 'readonly', (s) => s.get(id));
}
