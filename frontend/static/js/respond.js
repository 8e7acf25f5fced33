// Respondent page enhancements; the pages work without them.
(function () {
  // Kiosk thank-you page: back to an empty survey for the next client; any touch or key
  // postpones it, so nobody is cut off while reading (without JS a <noscript> refresh does it).
  var reset = parseInt(document.body.getAttribute("data-kiosk-reset") || "0", 10);
  var again = document.body.getAttribute("data-again-url");
  if (reset && again) {
    var timer;
    var arm = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { window.location.replace(again); }, reset * 1000);
    };
    ["pointerdown", "keydown"].forEach(function (e) { document.addEventListener(e, arm, true); });
    arm();
  }

  // Survey page after a failed check: the summary of what is missing is read first.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // Read-aloud: one button per question, shown only when the browser has a voice for the
  // page's language.
  var main = document.getElementById("main");
  var synth = window.speechSynthesis;
  if (!main || !synth || !window.SpeechSynthesisUtterance) return;
  var lang = (document.documentElement.lang || "de").toLowerCase();
  var label = main.getAttribute("data-read-label") || "Read aloud";
  var added = false;

  function voiceFor() {
    var voices = synth.getVoices();
    for (var i = 0; i < voices.length; i++) {
      var tag = (voices[i].lang || "").toLowerCase().replace("_", "-");
      if (tag === lang || tag.split("-")[0] === lang.split("-")[0]) return voices[i];
    }
    return null;
  }

  function textOf(question) {
    var head = question.querySelector("legend, .legend");
    var parts = [head ? head.textContent : ""];
    var options = question.querySelectorAll(".opt span");
    for (var i = 0; i < options.length && options.length <= 7; i++) parts.push(options[i].textContent);
    return parts.join(". ").replace(/\s+/g, " ").trim();
  }

  function speak(button, question) {
    var wasSpeaking = button.getAttribute("aria-pressed") === "true";
    synth.cancel();
    var pressed = document.querySelectorAll(".read[aria-pressed=true]");
    for (var i = 0; i < pressed.length; i++) pressed[i].setAttribute("aria-pressed", "false");
    if (wasSpeaking) return;
    var utterance = new SpeechSynthesisUtterance(textOf(question));
    utterance.lang = lang;
    try { utterance.voice = voiceFor(); } catch (e) { /* the lang alone picks a voice */ }
    utterance.onend = utterance.onerror = function () { button.setAttribute("aria-pressed", "false"); };
    button.setAttribute("aria-pressed", "true");
    synth.speak(utterance);
  }

  function addButtons() {
    if (added || !voiceFor()) return;
    added = true;
    var questions = main.querySelectorAll(".q");
    for (var i = 0; i < questions.length; i++) {
      (function (question) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "read";
        button.setAttribute("aria-pressed", "false");
        button.setAttribute("data-testid", "read-" + question.id.slice(2));
        button.textContent = label;
        button.addEventListener("click", function () { speak(button, question); });
        var head = question.querySelector("legend, .legend");
        var after = question.querySelector(".hint, .error") || head;
        after.parentNode.insertBefore(button, after.nextSibling);
      })(questions[i]);
    }
  }

  addButtons();
  if (!added && "onvoiceschanged" in synth) synth.addEventListener("voiceschanged", addButtons);
})();
