// Archivist page behaviour on top of htmx: confirmation dialogs, selection, error messages.
// A static file (not inline script) so that the Content-Security-Policy can forbid inline code.
(function () {
  "use strict";

  // hx-confirm questions are asked in a <dialog> rather than window.confirm(), so they can
  // say in full what will be lost, are styled, and keep keyboard focus sensibly (Cancel first).
  function ask(source, text, proceed) {
    var dialog = document.getElementById("confirm-dialog");
    document.getElementById("confirm-text").textContent = text;
    document.getElementById("confirm-ok").textContent = source.getAttribute("data-confirm-button") || "Yes, delete";
    dialog.returnValue = "";
    dialog.addEventListener("close", function () {
      if (dialog.returnValue === "confirm") proceed();
      else if (source.focus) source.focus();
    }, { once: true });
    dialog.showModal();
  }
  document.addEventListener("htmx:confirm", function (event) {
    var question = event.detail.question;
    if (!question) return;
    event.preventDefault();
    var source = event.detail.elt;
    var text = question;
    var countFrom = source.getAttribute("data-confirm-count");
    if (countFrom) {
      var n = document.querySelectorAll(countFrom).length;
      text = (n === 1 ? "1 request is selected. " : n + " requests are selected. ") + question;
    }
    ask(source, text, function () { event.detail.issueRequest(true); });
  });
  // A button with data-print prints the page (the certificate); no inline script under the CSP.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) window.print();
  });
  // A plain form (not htmx) with data-confirm asks the same way before it is sent.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (!question || form.getAttribute("data-confirmed") === "yes") return;
    event.preventDefault();
    ask(form, question, function () {
      form.setAttribute("data-confirmed", "yes");
      form.submit();
    });
  });

  // Enable bulk actions only while something is selected, and keep "select all" honest.
  function syncSelection() {
    var boxes = document.querySelectorAll("input[name='ids']");
    var checked = document.querySelectorAll("input[name='ids']:checked");
    document.querySelectorAll("[data-needs-selection]").forEach(function (el) {
      el.disabled = checked.length === 0;
    });
    var all = document.getElementById("select-all");
    if (all) {
      all.checked = boxes.length > 0 && checked.length === boxes.length;
      all.indeterminate = checked.length > 0 && checked.length < boxes.length;
    }
    var label = document.getElementById("selection-count");
    if (label) label.textContent = checked.length ? checked.length + " selected" : "";
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "select-all") {
      document.querySelectorAll("input[name='ids']").forEach(function (box) { box.checked = target.checked; });
    }
    if (target.id === "select-all" || target.name === "ids") syncSelection();
  });
  document.addEventListener("htmx:afterSettle", syncSelection);
  document.addEventListener("DOMContentLoaded", syncSelection);

  // On a narrow screen the details come below the results: bring them into view when opened,
  // rather than leaving them far below the fold.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "details" && window.matchMedia("(max-width: 1100px)").matches) {
      target.scrollIntoView({ block: "start" });
      target.focus({ preventScroll: true });
    }
  });

  // Mark the row whose details are open.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var row = event.detail.elt.closest && event.detail.elt.closest("tr[data-id]");
    if (row && event.detail.elt.classList.contains("open")) {
      document.querySelectorAll("tr.selected").forEach(function (tr) { tr.classList.remove("selected"); });
      row.classList.add("selected");
    }
  });

  // htmx does not swap error responses; tell the user instead of failing silently.
  function flash(message, isError) {
    var box = document.getElementById("flash");
    if (!box) return;
    box.textContent = message;
    box.classList.toggle("is-error", !!isError);
    // An error interrupts (alert); a success waits its turn (status).
    box.setAttribute("role", isError ? "alert" : "status");
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    var message = status === 403 ? "Your role may not do this, or the page is too old: reload it."
      : status === 404 ? "That request is no longer in the archive (or its content was already deleted)."
      : "Something went wrong (" + status + "). Nothing was changed if no confirmation appeared.";
    flash(message, true);
  });
  document.addEventListener("htmx:sendError", function () {
    flash("The server could not be reached. Check the connection and try again.", true);
  });
  document.addEventListener("htmx:beforeRequest", function () { flash("", false); });
  // Messages the server sends with a response (HX-Trigger: {"flash": "..."}).
  // After a bulk action, refresh the open details if they show one of the changed requests.
  document.body.addEventListener("archive-changed", function (event) {
    var open = document.querySelector("#details .detail-body");
    var ids = (event.detail && event.detail.ids) || [];
    if (open && ids.indexOf(open.getAttribute("data-id")) !== -1) {
      htmx.ajax("GET", "/archive/interactions/" + open.getAttribute("data-id"), { target: "#details", swap: "innerHTML" });
    }
  });

  // The script is deferred, so <body> exists by now.
  document.body.addEventListener("flash", function (event) { flash(event.detail.value, false); });
  // What the server refused (HX-Trigger: {"flash-error": "..."}): nothing was done, shown as an error.
  document.body.addEventListener("flash-error", function (event) { flash(event.detail.value, true); });
})();
