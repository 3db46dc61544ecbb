// The demo's recording shim. The page's gtag and fbq are the real globals from the standard
// snippets; with no internet, gtag.js and fbevents.js never load, so every call stays queued
// on window.dataLayer and fbq.queue. This shim only watches those two queues and tells the
// inspector panel about each call; it changes nothing that is stored.
(function () {
  var listeners = [];
  var calls = [];

  function record(destination, args) {
    var call = { destination: destination, args: Array.prototype.slice.call(args) };
    calls.push(call);
    listeners.forEach(function (listener) { listener(call); });
  }

  function watch(queue, destination) {
    var push = queue.push;
    queue.push = function () {
      for (var i = 0; i < arguments.length; i++) record(destination, arguments[i]);
      return push.apply(queue, arguments);
    };
    for (var j = 0; j < queue.length; j++) record(destination, queue[j]);
  }

  watch(window.dataLayer, "ga4");
  watch(window.fbq.queue, "meta");

  /** Calls recorded so far, and a way to hear about new ones. */
  window.demoRecorder = {
    calls: calls,
    subscribe: function (listener) { listeners.push(listener); },
  };
})();
