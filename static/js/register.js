/* The device-check page: play the check clip, report the licence, follow the server's confirmation. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("player-config").textContent);
  const messages = JSON.parse(document.getElementById("player-messages").textContent);
  const container = document.getElementById("check");
  const result = document.getElementById("result");
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;

  function step(name, cls) {
    const item = document.querySelector(`#progress [data-step="${name}"]`);
    item.classList.remove("active", "done", "failed");
    item.classList.add(cls);
  }

  function finish(ok, message, options) {
    options = options || {};
    result.textContent = message;
    result.className = "result " + (ok ? "ok" : "error");
    container.dataset.registration = ok ? "bound" : "failed";
    document.getElementById("actions").hidden = false;
    document.getElementById("continue").hidden = !ok;
    // At the device limit a new check is refused the same way: only My devices can help, so no "Try again".
    document.getElementById("retry").hidden = ok || Boolean(options.limitReached);
    document.getElementById("manage").hidden = !options.limitReached;
  }

  async function poll() {
    for (let attempt = 0; attempt < 240; attempt++) {
      const response = await fetch(config.statusUrl, { credentials: "same-origin" });
      const status = await response.json();
      if (status.done) {
        step("confirm", status.ok ? "done" : "failed");
        finish(status.ok, status.message, { limitReached: status.limit_reached });
        return;
      }
      result.textContent = status.message;
      await new Promise((resolve) => setTimeout(resolve, attempt < 20 ? 300 : 1000));
    }
    finish(false, messages.timeout);
  }

  let reported = false;

  if (container.dataset.state !== "loading") {
    // The attempt is already over (expired, failed or bound): just say so.
    poll();
    return;
  }
  async function startCheck(drm) {
    // The token exists only from now on, and is handed to this page once (a reload needs a new check).
    let answer = null;
    try {
      // The device key this page keeps proves itself over this registration's value (handed out once): titles
      // Bindery binds are later handed only to a page that signs with the same key (decision 0013).
      const body = new URLSearchParams();
      body.set("drm", drm);
      try {
        const proof = await window.BinderyDevice.prove("bindery-register\n" + config.registration);
        body.set("key", proof.key);
        body.set("signature", proof.signature);
      } catch (error) {
        // No key (no IndexedDB or secure context): ExpressPlay-bound DRMs can still register.
      }
      const response = await fetch(config.startUrl, {
        method: "POST", headers: { "X-CSRFToken": csrf }, credentials: "same-origin", body: body,
      });
      answer = await response.json();
    } catch (error) {
      answer = { ok: false, message: messages.timeout };
    }
    return answer;
  }

  // Which DRM this browser has (its EME says; in the sandbox the presenter may choose): the device, its check
  // token and every later token are of that DRM.
  function sayDrm(chosen) {
    const line = document.getElementById("drm");
    const name = window.BinderyDrm.label(config, chosen.drm);
    line.textContent = (messages["drm-" + chosen.how] || "{drm}").replace("{drm}", name);
    line.dataset.drm = chosen.drm;
    line.dataset.how = chosen.how;
    line.hidden = false;
  }

  step("licence", "active");
  window.BinderyDrm.choose(config).then((chosen) => {
    if (!chosen) {
      step("licence", "failed");
      finish(false, messages["no-drm"].replace("{drms}", (config.detect || []).map((each) => each.label).join(", ")));
      return null;
    }
    sayDrm(chosen);
    return startCheck(chosen.drm).then((answer) => [chosen, answer]);
  }).then((started) => {
    if (!started) return;
    const [chosen, answer] = started;
    if (!answer.ok) {
      step("licence", "failed");
      finish(false, answer.message);
      return;
    }
    const how = config.playback[chosen.drm];
    window.BinderyPlayer.start({
      container: container,
      video: document.getElementById("check-video"),
      manifestUrl: how.manifestUrl,
      licenseUrl: answer.licenseUrl,
      keySystem: chosen.how === "detected" && !config.sandbox ? chosen.keySystem : how.keySystem,
      fairplay: how.fairplay,
      certificateUrl: how.certificateUrl,
      signRequests: config.signRequests,
      messages: messages,
      onStatus: async (state, detail) => {
        if (state === "licensed" && !reported) {
          reported = true;
          step("licence", "done");
          step("confirm", "active");
          await fetch(config.licensedUrl, { method: "POST", headers: { "X-CSRFToken": csrf }, credentials: "same-origin" });
          poll();
        } else if (state === "error" && !reported) {
          step("licence", "failed");
          finish(false, detail.message);
        }
      },
    });
  });
})();
