// A transcript segment on the interaction view plays the recording from where it was said.
// Delegated from the document: the details panel is swapped in by htmx after this loads.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-seek-ms]");
    if (!button) return;
    var panel = button.closest(".detail-body");
    var audio = panel && panel.querySelector("audio");
    if (!audio) return;
    audio.currentTime = Number(button.getAttribute("data-seek-ms")) / 1000;
    var playing = audio.play();
    if (playing && playing.catch) playing.catch(function () {});
  });
})();
