/* Follow an entitlement's issuing progress without reloading the page. */
(function () {
  "use strict";

  const ORDER = ["device_lookup", "token_request", "done"];

  function show(root, status) {
    root.dataset.state = status.state;
    // Revoked, ended or bound to a removed device: the issuing steps say nothing true about it.
    document.getElementById("progress").hidden = !status.steps;
    const reached = ORDER.indexOf(status.progress);
    document.querySelectorAll("#progress [data-step]").forEach((item) => {
      const index = ORDER.indexOf(item.dataset.step);
      item.classList.remove("active", "done", "failed");
      if (status.ok || index < reached) item.classList.add("done");
      else if (index === reached && !status.done) item.classList.add("active");
      else if (status.done && !status.ok && index === Math.max(reached, 0)) item.classList.add("failed");
    });
    const message = document.getElementById("status-message");
    message.textContent = status.message;
    message.className = "result" + (status.done ? (status.ok ? " ok" : " error") : "");
    document.getElementById("status-next").textContent = status.next || "";
    const contact = document.getElementById("status-contact");
    if (contact) {
      contact.hidden = !status.contact;
      const link = contact.querySelector("a");
      link.href = "mailto:" + (status.contact || "");
      link.textContent = status.contact || "";
    }
    const again = document.getElementById("register-again");
    if (again) again.hidden = !status.register;
    const timing = document.getElementById("status-timing");
    if (timing) timing.textContent = status.timing || "";
  }

  /** Poll root.dataset.statusUrl until done; call onUpdate(status) each time. Resolve to the last status. */
  async function follow(root, onUpdate) {
    for (let attempt = 0; attempt < 600; attempt++) {
      let status;
      try {
        const response = await fetch(root.dataset.statusUrl, { credentials: "same-origin" });
        status = await response.json();
      } catch (e) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      show(root, status);
      if (onUpdate) onUpdate(status);
      if (status.done) return status;
      await new Promise((resolve) => setTimeout(resolve, attempt < 40 ? 250 : 1000));
    }
    return null;
  }

  window.BinderyProgress = { follow: follow, show: show };
})();
