// Loaded synchronously at the top of <body>: NHS.UK frontend styles its components once it knows
// scripts run. A file, not an inline script, so the Content-Security-Policy needs no 'unsafe-inline'.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " nhsuk-frontend-supported" : "");
