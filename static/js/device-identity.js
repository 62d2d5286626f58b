/*
 * Bindery's simulated DRM device identity (sandbox mode).
 *
 * A real DRM client proves which device it is inside its licence request. The browser's ClearKey CDM
 * cannot, so this browser profile keeps a non-extractable ECDSA P-256 key in IndexedDB and signs every
 * licence request with it. The sandbox licence server verifies the signature and logs
 * device_id = first 32 hex characters of SHA-256(public key, SPKI DER).
 */
(function () {
  "use strict";

  const DB_NAME = "bindery-device";
  const STORE = "identity";
  const RECORD = "device-key";

  function request(req) {
    return new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function openDb() {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    return request(req);
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function base64(bytes) {
    let text = "";
    bytes.forEach((b) => { text += String.fromCharCode(b); });
    return btoa(text);
  }

  async function loadOrCreate() {
    if (!window.isSecureContext || !crypto.subtle || !window.indexedDB) {
      throw new Error("no-secure-context");
    }
    const db = await openDb();
    let record = await request(db.transaction(STORE).objectStore(STORE).get(RECORD));
    let created = false;
    if (!record) {
      const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
      record = { privateKey: pair.privateKey, publicKey: pair.publicKey, spki: spki };
      const tx = db.transaction(STORE, "readwrite");
      tx.objectStore(STORE).put(record, RECORD);
      await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
      created = true;
    }
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", record.spki));
    return { deviceId: hex(digest).slice(0, 32), spki: record.spki, privateKey: record.privateKey, created: created };
  }

  let identity = null;

  const BinderyDevice = {
    /** Resolve to {deviceId, created}: this profile's identity, created on first use. */
    identity() {
      identity = identity || loadOrCreate();
      return identity.then((id) => ({ deviceId: id.deviceId, created: id.created }));
    },

    /** Resolve to {key, signature} (base64 SPKI, base64 raw r||s): this profile's device key, signed over the
        UTF-8 bytes of `text` (a challenge Bindery chose). */
    async prove(text) {
      const id = await (identity = identity || loadOrCreate());
      const signature = new Uint8Array(await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-256" }, id.privateKey, new TextEncoder().encode(text)));
      return { key: base64(id.spki), signature: base64(signature) };
    },

    /** Resolve to the four X-Sandbox-Device-* headers for a licence request body. */
    async sign(body) {
      const id = await (identity = identity || loadOrCreate());
      const bytes = body instanceof ArrayBuffer ? new Uint8Array(body)
        : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      const stamp = String(Math.floor(Date.now() / 1000));
      // A fresh nonce makes each signed request good once: the licence server refuses a replay.
      const nonce = hex(crypto.getRandomValues(new Uint8Array(16)));
      const suffix = new TextEncoder().encode("\n" + stamp + "\n" + nonce);
      const message = new Uint8Array(bytes.length + suffix.length);
      message.set(bytes, 0);
      message.set(suffix, bytes.length);
      const signature = new Uint8Array(
        await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, id.privateKey, message));
      return {
        "X-Sandbox-Device-Key": base64(id.spki),
        "X-Sandbox-Device-Time": stamp,
        "X-Sandbox-Device-Nonce": nonce,
        "X-Sandbox-Device-Signature": base64(signature),
      };
    },
  };

  window.BinderyDevice = BinderyDevice;
})();
