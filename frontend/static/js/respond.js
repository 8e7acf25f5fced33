// Respondent page enhancements; the pages work without them.
// resonanzSend(form, event, deliver): the "send anyway?" question, then deliver(payload)
// (the kiosk's queue) or a POST to the API; whatever the script cannot handle is left to the
// plain form POST, which the server answers the same way.
window.resonanzSend = function (form, event, deliver) {
  var anyway = event.submitter && event.submitter.name === "incomplete";
  var answers = {};
  var missing = [];
  var fields = form.querySelectorAll(".q[id^=q-]");
  for (var i = 0; i < fields.length; i++) {
    var q = fields[i];
    var code = q.id.slice(2);
    var checked = q.querySelector("input:checked");
    var text = q.querySelector("textarea");
    if (checked) answers[code] = parseInt(checked.value, 10);
    else if (text && text.value.trim()) answers[code] = text.value;
    else if (!text) missing.push(q);
  }
  var box = document.getElementById("confirm");
  if (missing.length && !anyway && box) {
    event.preventDefault();
    var list = box.querySelector("ul");
    list.textContent = "";
    missing.forEach(function (q) {
      var a = document.createElement("a");
      a.href = "#" + q.id;
      a.textContent = form.getAttribute("data-question").replace("%(number)s", q.querySelector(".num").textContent.replace(".", ""));
      list.appendChild(document.createElement("li")).appendChild(a);
    });
    box.hidden = false;
    box.focus();
    return;
  }
  if (!window.fetch || !window.JSON) return;
  event.preventDefault();
  var payload = {
    link: form.getAttribute("data-token"),
    submission_id: form.elements.submission_id.value,
    locale: form.elements.lang.value,
    issued: form.elements.issued.value,
    answers: answers
  };
  if (form.elements.code) payload.code = form.elements.code.value;
  if (deliver) return deliver(payload);
  var buttons = form.querySelectorAll("button[type=submit]");
  // On a slow line the answer takes seconds: say so, in the client's language, at once.
  var status = document.getElementById("sending");
  function busy(on) {
    for (var b = 0; b < buttons.length; b++) buttons[b].disabled = on;
    if (on) form.setAttribute("aria-busy", "true"); else form.removeAttribute("aria-busy");
    if (status) status.textContent = on ? form.getAttribute("data-sending") : "";
  }
  busy(true);
  function plain() {
    if (anyway) {
      var flag = document.createElement("input");
      flag.type = "hidden"; flag.name = "incomplete"; flag.value = "1";
      form.appendChild(flag);
    }
    HTMLFormElement.prototype.submit.call(form);
  }
  fetch("/api/v1/responses", {
    method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(payload), credentials: "omit"
  }).then(function (response) {
    if (response.status === 200 || response.status === 201) {
      form.setAttribute("data-sent", "1");
      window.location.replace(form.getAttribute("data-thanks"));
    } else plain();
  }, function () {
    busy(false);
    var note = document.getElementById("offline") || form.appendChild(document.createElement("p"));
    note.id = "offline"; note.className = "error"; note.setAttribute("role", "alert");
    note.textContent = form.getAttribute("data-offline");
  });
};

(function () {
  // Kiosk thank-you page: back to an empty survey for the next client; any touch or key
  // postpones it, so nobody is cut off while reading (without JS a <noscript> refresh does it).
  // Its address is the start's at once, so a reload does not keep the client's ?lang=.
  var reset = parseInt(document.body.getAttribute("data-kiosk-reset") || "0", 10);
  var again = document.body.getAttribute("data-again-url");
  if (reset && again) {
    if (window.history && history.replaceState) history.replaceState(null, "", again);
    var timer;
    var arm = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { window.location.replace(again); }, reset * 1000);
    };
    ["pointerdown", "keydown"].forEach(function (e) { document.addEventListener(e, arm, true); });
    arm();
  }

  // Survey page after a failed check, or when the server asks whether to send with
  // questions left out: that box is read first.
  var summary = document.getElementById("error-summary");
  var confirmBox = document.getElementById("confirm");
  if (summary) summary.focus();
  else if (confirmBox && !confirmBox.hidden) confirmBox.focus();

  // Sending: ask once when questions are left out; then send through the API and let the
  // thank-you page take the form's place in the history, so Back cannot resend it.
  // The kiosk (kiosk.js) takes over sending with its offline queue.
  var form = document.getElementById("survey");
  if (form && !document.body.classList.contains("kiosk")) {
    form.addEventListener("submit", function (event) { window.resonanzSend(form, event, null); });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && form.getAttribute("data-sent")) window.location.replace(form.getAttribute("data-thanks"));
    });
  }

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
    var questions = main.querySelectorAll(".q[id^=q-]");
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
