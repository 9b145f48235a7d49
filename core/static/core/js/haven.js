// Haven's one script, loaded from Haven itself (no inline script; CSP forbids it).
// The idle-session warning: a minute before the idle limit, offer to stay signed in. Only what the person
// does counts as activity; background requests send X-Haven-Background and do not extend the session.
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-session-idle") || "0", 10);
  var warning = parseInt(body.getAttribute("data-session-warning") || "60", 10);
  var keepaliveUrl = body.getAttribute("data-keepalive-url");
  if (!idle || !keepaliveUrl) { return; }
  var panel = document.getElementById("session-warning");
  var stay = document.getElementById("session-stay");
  var timer = null;

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () {
      panel.hidden = false;
      stay.focus();
    }, Math.max(idle - warning, 1) * 1000);
  }
  stay.addEventListener("click", function () {
    fetch(keepaliveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      if (response.ok) { panel.hidden = true; schedule(); }
      else { window.location.reload(); }
    });
  });
  schedule();
})();
