/*
 * Bindery's player: Shaka Player with the licence URL from an ExpressPlay (or sandbox) token.
 *
 * Every outcome is reported, in words, to the page and to the caller: nothing stalls silently. The
 * container element carries the machine-readable state for tests and for the page's own scripts:
 * data-state (loading | licensed | playing | ended | error), data-error-code, data-current-time.
 *
 * Options: {container, video, manifestUrl, licenseUrl, keySystem, signRequests, messages,
 *           onStatus(state, detail), timeoutMs, fairplay, certificateUrl}
 *
 * The key system is the device's DRM's (ClearKey in the sandbox). PlayReady is offered under both of Edge's
 * names; FairPlay (options.fairplay: the HLS rendition in Safari) gets the deployment's server certificate and
 * Shaka Player's own ExpressPlay helpers for its init data and its SPC, not hand-written ones.
 */
(function () {
  "use strict";

  /** Return {code, message} of a licence server's error JSON: ExpressPlay's errorCode, or Bindery's licence
      proxy refusing in words ({reason, message}). */
  function errorFromResponse(text) {
    try {
      const body = JSON.parse(text);
      if (typeof body.errorCode === "number") return { code: body.errorCode, message: null };
      if (typeof body.reason === "string") return { code: body.reason, message: body.message || null };
    } catch (e) {
      // not JSON: a refusal without words
    }
    return { code: null, message: null };
  }

  /** Return {code, httpStatus} of the licence server's refusal hidden in a Shaka error, if any. */
  function licenceRefusal(error) {
    let cause = error;
    for (let depth = 0; cause && depth < 4; depth++) {
      if (cause.code === 1001 && cause.data) {  // BAD_HTTP_STATUS: [uri, status, responseText, ...]
        const answer = errorFromResponse(cause.data[2] || "");
        return { httpStatus: cause.data[1], code: answer.code, message: answer.message };
      }
      cause = cause.data && cause.data[0] && typeof cause.data[0] === "object" ? cause.data[0] : null;
    }
    return null;
  }

  function start(options) {
    const container = options.container;
    const video = options.video;
    const messages = options.messages;
    let settled = false;
    let state = null;

    function report(next, detail) {
      detail = detail || {};
      if (settled && next !== "ended") return;
      state = next;
      container.dataset.state = next;
      container.dataset.currentTime = video.currentTime.toFixed(2);
      if (detail.code !== undefined && detail.code !== null) container.dataset.errorCode = String(detail.code);
      const text = detail.message || messages[next] || "";
      const line = container.querySelector("[data-player-message]");
      if (line) line.textContent = text;
      container.classList.toggle("is-error", next === "error");
      if (next === "error") settled = true;
      if (options.onStatus) options.onStatus(next, Object.assign({ message: text }, detail));
    }

    function fail(code, message) {
      if (settled) return;
      report("error", { code: code, message: message });
      video.removeAttribute("controls");
      if (player) player.unload().catch(() => {});
    }

    if (!window.shaka || !shaka.Player.isBrowserSupported() || !navigator.requestMediaKeySystemAccess) {
      report("error", { code: "no-eme", message: messages["no-eme"] });
      return null;
    }
    shaka.polyfill.installAll();
    const player = new shaka.Player();
    const Type = shaka.net.NetworkingEngine.RequestType;

    const servers = { [options.keySystem]: options.licenseUrl };
    if (String(options.keySystem).startsWith("com.microsoft.playready")) {
      servers["com.microsoft.playready"] = options.licenseUrl;
      servers["com.microsoft.playready.recommendation"] = options.licenseUrl;
    }
    const drm = { servers: servers, retryParameters: { maxAttempts: 1, timeout: 15000 } };
    if (options.fairplay) {
      drm.advanced = { [options.keySystem]: { serverCertificateUri: options.certificateUrl || "" } };
      drm.initDataTransform = shaka.drm.FairPlay.expressplayInitDataTransform;
    }
    player.configure({
      drm: drm,
      streaming: { bufferingGoal: 10, retryParameters: { maxAttempts: 3 } },
    });

    const net = player.getNetworkingEngine();
    if (options.fairplay) net.registerRequestFilter(shaka.drm.FairPlay.expressplayFairPlayRequest);
    net.registerRequestFilter(async (type, request) => {
      if (type === Type.LICENSE && options.signRequests) {
        try {
          Object.assign(request.headers, await BinderyDevice.sign(request.body));
        } catch (e) {
          fail("no-identity", messages["no-identity"]);
          throw e;
        }
      }
    });
    net.registerResponseFilter((type) => {
      if (type === Type.LICENSE && !settled) report("licensed");
    });

    player.addEventListener("error", (event) => handleError(event.detail));

    function handleError(error) {
      const refusal = licenceRefusal(error);
      if (refusal) {
        const key = refusal.code !== null ? String(refusal.code) : "licence-refused";
        fail(refusal.code !== null ? refusal.code : "http-" + refusal.httpStatus,
          refusal.message || messages[key] || messages["licence-refused"]);
      } else if (error && (error.code === 6001 || error.code === 6000)) {
        fail("no-eme", messages["no-eme"]);
      } else {
        fail(error && error.code ? error.code : "playback", messages["playback"]);
      }
    }

    video.addEventListener("timeupdate", () => {
      container.dataset.currentTime = video.currentTime.toFixed(2);
      if (!settled && video.currentTime > 1 && state !== "playing") report("playing");
    });
    video.addEventListener("ended", () => { report("ended"); settled = true; });
    video.addEventListener("error", () => fail("media", messages["playback"]));

    const timeout = setTimeout(() => {
      if (!settled && video.currentTime <= 1) fail("timeout", messages["timeout"]);
    }, options.timeoutMs || 20000);
    video.addEventListener("ended", () => clearTimeout(timeout));

    report("loading");
    player.attach(video)
      .then(() => player.load(options.manifestUrl))
      .then(() => video.play())
      .catch((error) => { if (!settled) handleError(error); });

    return {
      player: player,
      state: () => state,
      stop: () => { clearTimeout(timeout); return player.destroy(); },
    };
  }

  window.BinderyPlayer = { start: start };
})();
