// Archive - Access: a download is a normal link (the browser streams the ZIP to disk and shows
// its progress); this says so next to the list, and keeps the link from being clicked twice
// while the server starts the stream. A preview belongs to the values it was made for.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-download]");
    if (!link) return;
    if (link.getAttribute("aria-disabled") === "true") {
      event.preventDefault();
      return;
    }
    link.setAttribute("aria-disabled", "true");
    link.classList.add("busy");
    var status = document.getElementById("download-status");
    if (status) {
      status.textContent = "Download started: the ZIP is written as it downloads, and a large one takes a while. " +
        "Your browser shows its progress.";
    }
    window.setTimeout(function () {
      link.removeAttribute("aria-disabled");
      link.classList.remove("busy");
    }, 5000);
  });
  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("#access-form");
    var preview = document.getElementById("access-preview");
    if (form && preview) preview.remove();
  });
})();
