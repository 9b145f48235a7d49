// Intake autosave: while a step is being typed, send its fields every few seconds to the draft's autosave
// endpoint (JSON in, 204 out). The draft's version travels both ways: a stale save (another window, or a
// colleague resumed the draft) is refused with 409 and its message is shown; nothing is overwritten.
// Loaded from Haven itself (CSP: no inline script). Nothing is kept in the browser's storage.
(function () {
  "use strict";
  var DELAY_MS = 3000;
  var form = document.querySelector("form[data-autosave-url]");
  if (!form || !window.fetch || !window.JSON) { return; }
  var url = form.getAttribute("data-autosave-url");
  var step = form.getAttribute("data-autosave-step");
  var status = form.querySelector("[data-autosave-status]");
  var timer = null;
  var dirty = false;
  var stopped = false;
  var sending = false;
  var submitAfterSave = false;

  function say(text) { if (status) { status.textContent = text; } }
  function t(text) { return window.gettext ? window.gettext(text) : text; }
  function versionInputs() { return document.querySelectorAll("input[data-autosave-version]"); }
  function currentVersion() {
    var input = form.querySelector("input[data-autosave-version]");
    return input ? parseInt(input.value, 10) : 0;
  }
  function setVersion(value) {
    var inputs = versionInputs();
    for (var i = 0; i < inputs.length; i++) { inputs[i].value = value; }
  }
  function csrfToken() {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  function collect() {
    var data = {};
    var elements = form.elements;
    for (var i = 0; i < elements.length; i++) {
      var el = elements[i];
      if (!el.name || el.disabled || el.name === "csrfmiddlewaretoken" || el.hasAttribute("data-autosave-version")) { continue; }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { continue; }
      if (el.type === "submit" || el.type === "button" || el.type === "file") { continue; }
      var values = [];
      if (el.tagName === "SELECT" && el.multiple) {
        for (var j = 0; j < el.options.length; j++) { if (el.options[j].selected) { values.push(el.options[j].value); } }
      } else {
        values.push(el.value);
      }
      for (var k = 0; k < values.length; k++) {
        if (Object.prototype.hasOwnProperty.call(data, el.name)) {
          if (!Array.isArray(data[el.name])) { data[el.name] = [data[el.name]]; }
          data[el.name].push(values[k]);
        } else if (el.type === "checkbox" && isMultiple(el.name)) {
          data[el.name] = [values[k]];
        } else {
          data[el.name] = values[k];
        }
      }
    }
    return data;
  }
  function isMultiple(name) {
    return form.querySelectorAll("input[type=checkbox][name='" + name.replace(/'/g, "") + "']").length > 1;
  }
  function save() {
    if (stopped || sending || !dirty) { return; }
    dirty = false;
    sending = true;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ step: step, version: currentVersion(), data: collect() })
    }).then(function (response) {
      sending = false;
      if (response.status === 204) {
        var version = response.headers.get("X-Draft-Version");
        if (version) { setVersion(version); }
        say(t("Saved."));
        if (submitAfterSave) { form.submit(); }
        return;
      }
      if (response.status === 409 || response.status === 400 || response.status === 403) {
        stopped = response.status === 409 || response.status === 403;
        return response.json().then(function (body) {
          say((body && body.message) || t("Not saved."));
        }, function () { say(t("Not saved.")); });
      }
      dirty = true;
      say(t("Not saved yet: the connection failed. Retrying."));
    }, function () {
      sending = false;
      dirty = true;
      say(t("Not saved yet: the connection failed. Retrying."));
    });
  }
  function changed() {
    dirty = true;
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, DELAY_MS);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  setInterval(function () { if (dirty) { save(); } }, DELAY_MS * 2);
  // A step sent while an autosave is on its way waits for it, so it carries the new version.
  form.addEventListener("submit", function (event) {
    if (timer) { clearTimeout(timer); }
    stopped = true;
    if (sending) { event.preventDefault(); submitAfterSave = true; }
  });
})();
