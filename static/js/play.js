/* The title player: wait until the licence token is ready (first issue or renewal), then play it.
 *
 * A title bound by Bindery (status.session) has no token on the page: Play signs a one-time challenge with this
 * browser's device key and starts a playback session; the player then sends its licence requests, signed, to
 * the session's licence proxy, sends a heartbeat while it plays and ends the session when the page goes away.
 */
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

  function start(licenseUrl, options) {
    options = options || {};
    document.getElementById("issuing").hidden = true;
    return window.BinderyPlayer.start({
      container: container,
      video: document.getElementById("video"),
      manifestUrl: config.manifestUrl,
      licenseUrl: licenseUrl,
      keySystem: config.keySystem,
      fairplay: config.fairplay,
      certificateUrl: config.certificateUrl,
      signRequests: options.signRequests || config.signRequests,
      messages: messages,
      onStatus: (state, detail) => {
        if (options.onStatus) options.onStatus(state, detail);
        if (state === "licensed" && !reportedPlay) {
          reportedPlay = true;
          post(config.playedUrl);
        }
        if (state === "error") {
          refused(detail.code);
          // Bound to another of the customer's devices: offer the move right here (when the page allows it).
          const move = document.getElementById("move-here");
          if (move && detail.code === -4905) move.hidden = false;
          // "Register this browser ...": the link to do it, coming back to this title afterwards.
          const register = document.getElementById("register-here");
          if (register && detail.code === -4905) register.hidden = false;
        }
      },
    });
  }

  // --- playback sessions (titles bound by Bindery) ---------------------------------------------------------

  let challenge = config.challenge || null;  // rendered with the page; good once, for a few minutes
  let session = null;
  let heartbeat = null;
  let playing = null;
  const again = document.getElementById("play-again");

  function say(code, message) {
    container.dataset.state = "error";
    container.dataset.errorCode = String(code);
    container.classList.add("is-error");
    container.querySelector("[data-player-message]").textContent = message;
  }

  function endSession(reason) {
    if (!session) return;
    const body = new FormData();
    body.append("csrfmiddlewaretoken", csrf);
    body.append("reason", reason);
    if (!navigator.sendBeacon || !navigator.sendBeacon(session.endUrl, body)) {
      fetch(session.endUrl, { method: "POST", body: body, credentials: "same-origin", keepalive: true }).catch(() => null);
    }
    clearInterval(heartbeat);
    session = null;
  }

  async function freshChallenge() {
    if (challenge) {
      const once = challenge;
      challenge = null;
      return once;
    }
    const response = await fetch(config.challengeUrl, { credentials: "same-origin" });
    const answer = await response.json();
    if (!answer.challenge) throw Object.assign(new Error("refused"), { answer: answer });
    return answer.challenge;
  }

  async function startSession() {
    if (again) again.hidden = true;
    let answer;
    try {
      const text = await freshChallenge();
      const proof = await window.BinderyDevice.prove("bindery-play\n" + text);
      const response = await post(config.sessionUrl, { challenge: text, key: proof.key, signature: proof.signature });
      answer = await response.json();
    } catch (error) {
      answer = error.answer || { ok: false, reason: "no-identity", message: messages["no-identity"] };
    }
    if (!answer.ok) {
      say(answer.reason, answer.message);
      if (again) again.hidden = false;  // nothing is lost: Play may be pressed again
      return;
    }
    session = answer;
    heartbeat = setInterval(() => {
      post(session.heartbeatUrl).then((response) => (response.ok ? null : response.json())).then((refusal) => {
        if (!refusal) return;
        // The session is over (another window took its place, or this one slept too long): stop here.
        clearInterval(heartbeat);
        session = null;
        if (playing) playing.stop();
        say(refusal.reason, refusal.message);
        if (again) again.hidden = false;
      }).catch(() => null);
    }, (answer.heartbeatSeconds || 60) * 1000);
    playing = start(answer.licenseUrl, {
      signRequests: true,
      onStatus: (state) => { if (state === "ended" || state === "error") endSession(state); },
    });
  }

  window.addEventListener("pagehide", () => endSession("page closed"));
  if (again) again.addEventListener("click", () => { if (playing) playing.stop(); startSession(); });

  // A token that has (nearly) expired is renewed for the same device: a POST, never a side effect of a GET.
  const renewed = root.dataset.renew === "true"
    ? post(config.renewUrl).catch(() => null)
    : Promise.resolve(null);

  function follow() {
    return window.BinderyProgress.follow(root).then((status) => {
      if (status && status.ok && status.session) {
        startSession();
      } else if (status && status.ok) {
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
