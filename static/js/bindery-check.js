/*
 * Bindery's drop-in device check, for a storefront's own page on its own site.
 *
 *   <div id="bindery-check"></div>
 *   <script src="https://bindery.example/static/js/bindery-check.js"></script>
 *   <script>
 *     BinderyCheck.run({reference: "<from POST /api/v1/registrations/>", container: "#bindery-check"})
 *       .then((result) => ...);             // {ok, state, message, device, code}
 *     // or listen: container.addEventListener("bindery:check", (e) => e.detail)
 *   </script>
 *
 * It plays Bindery's short device-check clip through the browser's EME with the registration's dummy
 * token (the same player, device identity and licence server as Bindery's own shop), tells Bindery the
 * licence came, and follows Bindery's record lookup until the device is bound or the check fails. Every
 * outcome ends in a result with a message in the customer's language; nothing is left waiting.
 *
 * BinderyCheck.play({container, manifestUrl, licenseUrl, drm}) then plays a title with the device-bound token
 * URL the storefront's backend got from GET /api/v1/entitlements/<id>/ (its `drm` and, for FairPlay, its HLS
 * `manifest_url`).
 */
(function () {
  "use strict";

  const script = document.currentScript;
  const staticBase = script ? script.src.replace(/js\/bindery-check\.js(\?.*)?$/, "") : "/static/";
  const DEPENDENCIES = ["vendor/shaka-player/shaka-player.compiled.js", "js/drm-detect.js", "js/device-identity.js", "js/player.js"];
  const POLL_ATTEMPTS = 240;

  let loaded = null;

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const tag = document.createElement("script");
      tag.src = src;
      tag.onload = resolve;
      tag.onerror = () => reject(new Error("could not load " + src));
      document.head.appendChild(tag);
    });
  }

  /** Load Shaka Player, the device identity and Bindery's player once, in order. */
  function dependencies() {
    loaded = loaded || DEPENDENCIES.reduce(
      (chain, path) => chain.then(() => (path.includes("shaka") && window.shaka) ? null : loadScript(staticBase + path)),
      Promise.resolve());
    return loaded;
  }

  /** "This browser supports none of the DRMs this shop uses (…)", naming the offered ones. */
  function noDrm(config, messages) {
    return messages["no-drm"].replace("{drms}", (config.detect || []).map((each) => each.label).join(", "));
  }

  function element(target) {
    return typeof target === "string" ? document.querySelector(target) : target;
  }

  /** A <video> and a message line inside the container (reused when the page provides them). */
  function stage(container) {
    let video = container.querySelector("video");
    if (!video) {
      video = document.createElement("video");
      video.muted = true;
      video.playsInline = true;
      video.width = 320;
      video.height = 180;
      container.appendChild(video);
    }
    let line = container.querySelector("[data-player-message]");
    if (!line) {
      line = document.createElement("p");
      line.setAttribute("data-player-message", "");
      line.setAttribute("aria-live", "polite");
      container.appendChild(line);
    }
    return video;
  }

  function announce(container, result) {
    container.dataset.registration = result.ok ? "bound" : "failed";
    const line = container.querySelector("[data-player-message]");
    if (line) line.textContent = result.message;
    container.dispatchEvent(new CustomEvent("bindery:check", { detail: result, bubbles: true }));
    return result;
  }

  async function fetchJson(url, options) {
    const response = await fetch(url, Object.assign({ credentials: "omit" }, options || {}));
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }

  async function run(options) {
    const container = element(options.container);
    if (!container) throw new Error("BinderyCheck.run: no container");
    const base = (options.bindery || staticBase.replace(/static\/$/, "")).replace(/\/$/, "");
    const checkUrl = base + "/api/v1/check/" + encodeURIComponent(options.reference) + "/";
    let check;
    try {
      const [response] = await Promise.all([fetch(checkUrl, { credentials: "omit" }), dependencies()]);
      check = await response.json();
      if (!response.ok) return announce(container, { ok: false, state: check.state, message: check.message });
    } catch (error) {
      return announce(container, {
        ok: false, state: "unavailable", code: "unreachable",
        // Bindery itself is out of reach, so are its translations: the page's own words, else English.
        message: options.unreachableMessage || "The device check could not start. Check your connection and try again.",
      });
    }
    const messages = check.messages;
    const finish = (status, extra) => announce(container, Object.assign({
      ok: status.ok, state: status.state, message: status.message, device: status.device || "",
      limitReached: !!status.limit_reached,
    }, extra || {}));

    if (check.done) return finish(check);

    async function poll() {
      for (let attempt = 0; attempt < POLL_ATTEMPTS; attempt++) {
        const status = await fetchJson(check.config.statusUrl).catch(() => null);
        if (status && status.done) return finish(status);
        await new Promise((resolve) => setTimeout(resolve, attempt < 20 ? 300 : 1000));
      }
      return finish({ ok: false, state: "timeout", message: messages.timeout });
    }

    if (check.state === "licence_seen") return poll();  // played already (a reload): follow the lookup

    // This browser's DRM (its EME says which of Bindery's DRMs it supports): the device is of that DRM.
    const chosen = await window.BinderyDrm.choose(check.config);
    if (!chosen) return finish({ ok: false, state: "failed", message: noDrm(check.config, messages) }, { code: "no-drm" });
    const how = check.config.playback[chosen.drm];

    // The check's token exists only from now on, and is handed out once: a second start is refused.
    let started;
    try {
      const response = await fetch(check.config.startUrl, {
        method: "POST", credentials: "omit", body: new URLSearchParams({ drm: chosen.drm }),
      });
      started = await response.json();
    } catch (error) {
      started = { ok: false, message: messages.timeout };
    }
    if (!started.ok) return finish({ ok: false, state: "failed", message: started.message });

    return new Promise((resolve) => {
      let reported = false;
      window.BinderyPlayer.start({
        container: container,
        video: stage(container),
        manifestUrl: how.manifestUrl,
        licenseUrl: started.licenseUrl,
        keySystem: chosen.how === "detected" && !check.config.sandbox ? chosen.keySystem : how.keySystem,
        fairplay: how.fairplay,
        certificateUrl: how.certificateUrl,
        signRequests: check.config.signRequests,
        messages: messages,
        onStatus: async (state, detail) => {
          if (state === "licensed" && !reported) {
            reported = true;
            await fetch(check.config.licensedUrl, { method: "POST", credentials: "omit" }).catch(() => null);
            resolve(await poll());
          } else if (state === "error" && !reported) {
            reported = true;
            resolve(finish({ ok: false, state: "failed", message: detail.message }, { code: detail.code }));
          }
        },
      });
    });
  }

  /** Play a title with its device-bound token URL; resolves to the player's handle (see player.js). The key
   * system and the player's messages (in the browser's language) come from Bindery; the page may override
   * messages. */
  async function play(options) {
    const container = element(options.container);
    const base = (options.bindery || staticBase.replace(/static\/$/, "")).replace(/\/$/, "");
    const [player] = await Promise.all([fetchJson(base + "/api/v1/check/player/"), dependencies()]);
    const video = options.video || stage(container);
    video.muted = false;
    video.controls = true;
    return window.BinderyPlayer.start({
      container: container,
      video: video,
      manifestUrl: options.manifestUrl,
      licenseUrl: options.licenseUrl,
      keySystem: options.drm && player.playback[options.drm] ? player.playback[options.drm].keySystem : player.keySystem,
      fairplay: options.drm === "fp" && player.playback.fp ? player.playback.fp.fairplay : false,
      certificateUrl: player.playback.fp ? player.playback.fp.certificateUrl : "",
      signRequests: player.signRequests,
      messages: Object.assign({}, player.messages, options.messages || {}),
      onStatus: options.onStatus,
    });
  }

  window.BinderyCheck = { run: run, play: play };
})();
