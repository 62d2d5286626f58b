/* Behaviour every page shares, kept out of the HTML (the Content-Security-Policy allows no inline script). */
(function () {
  "use strict";

  // Forms with data-confirm ask first ("Remove this device?").
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  // Selects with data-autosubmit send their form on change (the language menu).
  document.addEventListener("change", (event) => {
    const field = event.target;
    if (field.dataset && field.dataset.autosubmit !== undefined && field.form) field.form.submit();
  });
})();
