/* The order page: follow issuing, and show "Play now" once the title is ready. */
(function () {
  "use strict";

  window.BinderyProgress.follow(document.getElementById("order"), (status) => {
    document.getElementById("play").hidden = !status.ok;
  });
})();
