// Archive - Anonymize: a preview belongs to the values it was made for. Editing the form
// removes it (and its Add button), so Add can only ever add what the user saw previewed.
// A static file, not inline script, so the Content-Security-Policy can forbid inline code.
(function () {
  "use strict";
  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("#anonymize-form");
    var preview = document.getElementById("preview");
    if (form && preview) preview.remove();
  });
})();
