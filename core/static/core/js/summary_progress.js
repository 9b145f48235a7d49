// Case summaries: while a summary is being made, ask its status every 2 seconds and say when it is ready.
// Polling sends X-Haven-Background so it does not count as activity (the session still ends when idle).
// Without JavaScript the page shows the status on reload.
(function () {
  "use strict";
  var config = document.getElementById("summary-config");
  var region = document.getElementById("summary-progress");
  if (!config || !region) { return; }
  var statusUrl = config.getAttribute("data-status-url");  // ends in /0/status/
  var downloadText = config.getAttribute("data-download-text") || "";
  var readyText = region.getAttribute("data-ready-text") || "";
  var statusText = region.getAttribute("data-status-text") || "";
  var INTERVAL = 2000;

  function urlFor(id) {
    return statusUrl.replace(/\/0\/status\/$/, "/" + id + "/status/");
  }
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match;
    });
  }
  function announce(text) {
    region.textContent = text;
  }
  function update(row, data) {
    var id = row.getAttribute("data-summary-id");
    var label = row.querySelector("[data-summary-label]");
    var previous = row.getAttribute("data-summary-status");
    if (label) { label.textContent = data.label; }
    row.setAttribute("data-summary-status", data.status);
    if (data.status === "ready" && data.download_url) {
      var action = row.querySelector("[data-summary-action]");
      if (action && !action.querySelector("a")) {
        var link = document.createElement("a");
        link.href = data.download_url;
        link.setAttribute("download", "");
        link.textContent = fill(downloadText, { number: id });
        action.appendChild(link);
      }
      announce(fill(readyText, { number: id }));
    } else if (data.status !== previous) {
      announce(fill(statusText, { number: id, status: data.label }));
    }
    if (data.is_final) {
      row.removeAttribute("data-summary-pending");
    }
  }
  function poll(row) {
    var id = row.getAttribute("data-summary-id");
    fetch(urlFor(id), {
      credentials: "same-origin",
      headers: { "X-Haven-Background": "1", "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      update(row, data);
      if (!data.is_final) { setTimeout(function () { poll(row); }, INTERVAL); }
    }).catch(function () {
      // Signed out or offline: stop asking; the page shows the status on reload.
      row.removeAttribute("data-summary-pending");
    });
  }
  var rows = document.querySelectorAll("tr[data-summary-pending]");
  for (var i = 0; i < rows.length; i += 1) {
    (function (row) { setTimeout(function () { poll(row); }, INTERVAL); })(rows[i]);
  }
})();
