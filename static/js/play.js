/* The title player: wait until the licence token is ready (first issue or renewal), then play it. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("player-config").textContent);
  const messages = JSON.parse(document.getElementById("player-messages").textContent);
  const root = document.getElementById("watch");
  const container = document.getElementById("player");
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  let reportedPlay = false;
  let reportedRefusal = false;

  function post(url, fields) {
    const body = new URLSearchParams(fields || {});
    return fetch(url, { method: "POST", headers: { "X-CSRFToken": csrf }, credentials: "same-origin", body: body });
  }

  // The licence server's refusal goes on record; if Bindery answers that a new token is on its way (this
  // device's identity changed since it registered), wait for it and play again.
  function refused(code) {
    if (reportedRefusal || typeof code !== "number") return;
    reportedRefusal = true;
    post(config.refusedUrl, { code: String(code) })
      .then((response) => (response.ok ? response.json() : null))
      .then((answer) => {
        if (!answer || !answer.reissuing) return;
        container.querySelector("[data-player-message]").textContent = messages.relookup;
        follow();
      })
      .catch(() => null);
  }

  function start(licenseUrl) {
    document.getElementById("issuing").hidden = true;
    window.BinderyPlayer.start({
      container: container,
      video: document.getElementById("video"),
      manifestUrl: config.manifestUrl,
      licenseUrl: licenseUrl,
      keySystem: config.keySystem,
      signRequests: config.signRequests,
      messages: messages,
      onStatus: (state, detail) => {
        if (state === "licensed" && !reportedPlay) {
          reportedPlay = true;
          post(config.playedUrl);
        }
        if (state === "error") {
          refused(detail.code);
          // Bound to another of the customer's devices: offer the move right here (when the page allows it).
          const move = document.getElementById("move-here");
          if (move && detail.code === -4905) move.hidden = false;
        }
      },
    });
  }

  // A token that has (nearly) expired is renewed for the same device: a POST, never a side effect of a GET.
  const renewed = root.dataset.renew === "true"
    ? post(config.renewUrl).catch(() => null)
    : Promise.resolve(null);

  function follow() {
    return window.BinderyProgress.follow(root).then((status) => {
      if (status && status.ok) {
        start(status.licenseUrl);
      } else {
        container.dataset.state = "unavailable";
        container.querySelector("[data-player-message]").textContent = status ? status.message : messages.timeout;
        document.getElementById("issuing").hidden = false;
      }
    });
  }

  renewed.then(follow);
})();
