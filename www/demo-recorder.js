// The demo's recording shim. The page's gtag and fbq are the real globals from the standard
// snippets; with no internet, gtag.js and fbevents.js never load, so every call stays queued
// on window.dataLayer and fbq.queue. This shim records each call (wrapping gtag() and fbq.queue's
// push) and tells the inspector panel about it; what the tags would read is unchanged.
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

  // GA4: the calls already queued, then gtag() itself is wrapped. dataLayer.push stays as the
  // snippet left it: a replaced push is how the module tells that gtag.js or GTM has loaded,
  // and here it has not.
  for (var k = 0; k < window.dataLayer.length; k++) record("ga4", window.dataLayer[k]);
  var gtag = window.gtag;
  window.gtag = function () {
    record("ga4", arguments);
    return gtag.apply(this, arguments);
  };
  watch(window.fbq.queue, "meta");

  /** Calls recorded so far, and a way to hear about new ones. */
  window.demoRecorder = {
    calls: calls,
    subscribe: function (listener) { listeners.push(listener); },
  };
})();
