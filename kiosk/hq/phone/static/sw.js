/* The follow pages' service worker (served at /t/sw.js, scope /t/): shows a push message's
   title and body; a tap focuses the ticket's page, or opens it. */
"use strict";

function ticketUrl(data) {
  var url = data && typeof data.url === "string" ? data.url : "";
  try {
    var u = new URL(url, self.registration.scope);
    if (u.origin === self.location.origin && u.pathname.indexOf("/t/") === 0) { return u.href; }
  } catch (e) { /* not a URL: fall through */ }
  return null;
}

self.addEventListener("push", function (event) {
  var data = {};
  if (event.data) {
    try { data = event.data.json(); } catch (e) { data = {body: event.data.text()}; }
  }
  var title = typeof data.title === "string" && data.title ? data.title : "🔔";
  event.waitUntil(self.registration.showNotification(title, {
    body: typeof data.body === "string" ? data.body : "",
    tag: typeof data.tag === "string" ? data.tag : "ticket",
    renotify: true,
    data: {url: ticketUrl(data)}
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = event.notification.data && event.notification.data.url;
  event.waitUntil(self.clients.matchAll({type: "window", includeUncontrolled: true}).then(function (list) {
    for (var i = 0; i < list.length; i++) {
      var c = list[i];
      if ((url && c.url.indexOf(url) === 0) || (!url && new URL(c.url).pathname.indexOf("/t/") === 0)) {
        return c.focus();
      }
    }
    return url ? self.clients.openWindow(url) : null;
  }));
});
