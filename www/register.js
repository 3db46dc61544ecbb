// The registration page: Altegio opens it with the locations a business picked
// (`?salon_ids[]=…` and, with user-data transfer on, `user_data` + `user_data_sign`).
// The module reads the URL, asks the companion (this page's own origin) to activate every
// location, and this script shows each outcome. Inside Altegio's app-card iframe the module
// also tells Altegio the result (show_toast, close_modal).
import init, { BookingAnalytics } from "/pkg/register/altegio_analytics.js";

const $ = (id) => document.getElementById(id);

/** Altegio's app origins, from <meta name="altegio-origin">. */
function altegioOrigins() {
  const meta = document.querySelector('meta[name="altegio-origin"]');
  const origins = (meta?.content ?? "").split(/\s+/).filter(Boolean);
  return origins.length ? origins : undefined;
}

function show(section) {
  for (const id of ["progress", "outcome", "failure"]) $(id).hidden = id !== section;
  document.body.dataset.state = section;
}

function locationItem({ salonId, status, alreadyActive, reason }) {
  const item = document.createElement("li");
  item.className = `location ${status}`;
  item.dataset.salonId = String(salonId);
  item.dataset.status = status;

  const icon = document.createElement("span");
  icon.className = "icon";
  icon.setAttribute("aria-hidden", "true");
  icon.textContent = status === "active" ? "✓" : "!";

  const text = document.createElement("div");
  text.className = "text";
  const name = document.createElement("strong");
  name.textContent = `Location ${salonId}`;
  const detail = document.createElement("span");
  detail.className = "detail";
  if (status === "active") {
    detail.textContent = alreadyActive ? "Already connected" : "Connected";
  } else {
    detail.textContent = `Not connected: ${reason ?? "no reason given"}`;
  }
  text.append(name, detail);

  const badge = document.createElement("span");
  badge.className = "badge";
  badge.textContent = status === "active" ? "Active" : "Failed";

  item.append(icon, text, badge);
  return item;
}

function render({ locations }) {
  const active = locations.filter((l) => l.status === "active").length;
  const all = active === locations.length;
  const noun = locations.length === 1 ? "location" : "locations";
  $("summary").textContent = all
    ? `${locations.length} ${noun} connected`
    : `${active} of ${locations.length} ${noun} connected`;
  $("summary").className = `summary ${all ? "good" : "partial"}`;
  $("locations").replaceChildren(...locations.map(locationItem));
  $("next").textContent = all
    ? "You're all set: bookings from the online widget now reach your analytics. You can close this window."
    : "The locations marked Failed are not connected yet. Open this page again from Altegio to retry them; connected ones stay connected.";
  show("outcome");
}

async function main() {
  const framed = window.parent !== window;
  document.body.classList.toggle("framed", framed);
  $("mode").textContent = framed ? "Inside Altegio" : "";
  show("progress");
  try {
    await init();
    const analytics = new BookingAnalytics();
    const result = await analytics.connectLocations({
      companionUrl: location.origin,
      altegioOrigin: altegioOrigins(),
    });
    render(result);
  } catch (error) {
    $("failure-message").textContent = error instanceof Error ? error.message : String(error);
    show("failure");
  }
}

main();
