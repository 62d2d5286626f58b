/* The presenter's page: copy the sign-in link, and follow the demo customer's audit trail as it happens. */
(function () {
  "use strict";

  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", () => {
      const field = document.getElementById(button.dataset.copy);
      field.select();
      if (navigator.clipboard) navigator.clipboard.writeText(field.value).catch(() => null);
      const label = button.textContent;
      button.textContent = button.dataset.copied;  // "Copied": the click did something
      setTimeout(() => { button.textContent = label; }, 2000);
    });
  });

  const root = document.getElementById("presenter");
  const body = document.getElementById("events");

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    return td;
  }

  const outboxList = document.getElementById("outbox");
  let outboxShown = "";

  function showOutbox(mails) {
    const key = JSON.stringify(mails.map((mail) => [mail.time, mail.subject, mail.to]));
    if (!outboxList || !mails.length || key === outboxShown) return;  // open details stay open
    outboxShown = key;
    outboxList.replaceChildren(...mails.map((mail) => {
      const item = document.createElement("li");
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      const time = document.createElement("span");
      time.className = "muted";
      time.textContent = mail.time + " ";
      const subject = document.createElement("strong");
      subject.textContent = mail.subject;
      summary.append(time, subject, " → " + mail.to);
      const text = document.createElement("pre");
      text.textContent = mail.text;
      details.append(summary, text);
      item.append(details);
      return item;
    }));
  }

  async function refresh() {
    try {
      const response = await fetch(root.dataset.eventsUrl, { credentials: "same-origin" });
      if (!response.ok) return;
      const { events, outbox } = await response.json();
      showOutbox(outbox || []);
      if (!events.length) return;
      body.replaceChildren(...events.map((event) => {
        const row = document.createElement("tr");
        row.title = event.detail;
        row.append(cell(event.time), cell(event.what), cell(event.device), cell(event.code));
        return row;
      }));
    } catch (e) {
      /* the next refresh tries again */
    }
  }

  // Which faults are on, kept true while the page is open (another tab or the faults page may switch them).
  const faultsNow = document.getElementById("faults-now");

  async function refreshFaults() {
    if (!faultsNow) return;
    try {
      const response = await fetch(faultsNow.dataset.faultsUrl, { credentials: "same-origin" });
      if (!response.ok) return;
      const now = await response.json();
      faultsNow.textContent = now.line;
      faultsNow.classList.toggle("on", now.active);
    } catch (e) {
      /* the next refresh tries again */
    }
  }

  setInterval(refresh, 2000);
  setInterval(refreshFaults, 2000);
})();
