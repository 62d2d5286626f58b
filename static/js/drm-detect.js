/*
 * Which DRM this browser has: the first DRM the shop offers (in the order of EXPRESSPLAY_DRMS) whose EME key
 * system the browser grants, by navigator.requestMediaKeySystemAccess (decision 0013).
 *
 *   BinderyDrm.choose(config) -> Promise<{drm, keySystem, how}>   how: "presented" | "detected" | "simulated"
 *                                    or null (live, and the browser supports none of the offered DRMs)
 *
 * config.detect lists the offered DRMs with the key systems to ask for (Edge's PlayReady "recommendation"
 * before the classic name, Safari's "com.apple.fps" before the legacy one). In the sandbox, the presenter may
 * present this browser as a DRM (config.presentAs); a browser that supports none of them (a test Chromium
 * has only ClearKey) is simulated as the first offered one, and every DRM plays through ClearKey there.
 */
(function () {
  "use strict";

  const VIDEO = 'video/mp4; codecs="avc1.4d401e"';
  const AUDIO = 'audio/mp4; codecs="mp4a.40.2"';

  /** The EME configurations to ask a DRM's key system for: what our packaging gives it (packaging.py). */
  function configurations(drm) {
    if (drm === "fp") {
      // FairPlay plays the cbcs HLS rendition; Safari's EME speaks of it as 'sinf' or 'skd' init data.
      return [{
        initDataTypes: ["sinf", "skd"],
        videoCapabilities: [{ contentType: VIDEO }],
        audioCapabilities: [{ contentType: AUDIO }],
      }];
    }
    const robustness = drm === "wv" ? { video: "SW_SECURE_DECODE", audio: "SW_SECURE_CRYPTO" } : { video: "", audio: "" };
    return [{
      initDataTypes: ["cenc"],
      videoCapabilities: [{ contentType: VIDEO, robustness: robustness.video }],
      audioCapabilities: [{ contentType: AUDIO, robustness: robustness.audio }],
    }];
  }

  /** Resolve to the first of `keySystems` this browser grants for `drm`, or null. */
  async function supported(drm, keySystems) {
    if (!navigator.requestMediaKeySystemAccess) return null;
    for (const keySystem of keySystems) {
      try {
        await navigator.requestMediaKeySystemAccess(keySystem, configurations(drm));
        return keySystem;
      } catch (error) {
        // not this one: try the next name, then the next DRM
      }
    }
    return null;
  }

  async function choose(config) {
    const offered = config.detect || [];
    if (config.presentAs) {
      return { drm: config.presentAs, keySystem: null, how: "presented" };
    }
    for (const candidate of offered) {
      const keySystem = await supported(candidate.drm, candidate.keySystems);
      if (keySystem) return { drm: candidate.drm, keySystem: keySystem, how: "detected" };
    }
    if (config.sandbox && offered.length) {
      return { drm: offered[0].drm, keySystem: null, how: "simulated" };
    }
    return null;
  }

  /** The label of `drm` among the offered ones ("PlayReady"), for the page's words. */
  function label(config, drm) {
    const found = (config.detect || []).find((candidate) => candidate.drm === drm);
    return found ? found.label : drm;
  }

  window.BinderyDrm = { choose: choose, label: label, configurations: configurations };
})();
