/* The title player: wait until the licence token is ready (first issue or renewal), then play it. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("player-config").textContent);
  const messages = JSON.parse(document.getElementById("player-messages").textContent);
  const root = document.getElementById("watch");
  const container = document.getElementById("player");
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  let reportedPlay = false;

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
      onStatus: (state) => {
        if (state === "licensed" && !reportedPlay) {
          reportedPlay = true;
          fetch(config.playedUrl, { method: "POST", headers: { "X-CSRFToken": csrf }, credentials: "same-origin" });
        }
      },
    });
  }

  // A token that has (nearly) expired is renewed for the same device: a POST, never a side effect of a GET.
  const renewed = root.dataset.renew === "true"
    ? fetch(config.renewUrl, { method: "POST", headers: { "X-CSRFToken": csrf }, credentials: "same-origin" })
        .catch(() => null)
    : Promise.resolve(null);

  renewed.then(() => window.BinderyProgress.follow(root)).then((status) => {
    if (status && status.ok) {
      start(status.licenseUrl);
    } else {
      container.dataset.state = "unavailable";
      container.querySelector("[data-player-message]").textContent = status ? status.message : messages.timeout;
      document.getElementById("issuing").hidden = false;
    }
  });
})();
