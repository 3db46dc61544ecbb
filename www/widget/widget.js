// A stand-in for Altegio's booking widget (served from its own origin, as the real one is).
// It walks through a booking — services, specialist, date, time, contacts, booked — and lets
// the client change or cancel the appointment and leave a review. For every analytics goal it
// posts exactly what the real widget posts to the embedding page:
//   window.parent.postMessage({action, params}, "*")
// (see FACTS §1–2), and after `booked` the widget's own Meta standard event, `Schedule`.

const COMPANY = { id: 401234, name: "Studio Bloom" };
/** The salon's UTC offset, as Altegio writes appointment times. */
const TZ = "+01:00";
const SERVICES = [
  { id: 9120001, title: "Haircut & blow-dry", minutes: 60, price: 55 },
  { id: 9120002, title: "Colour refresh", minutes: 90, price: 85 },
  { id: 9120003, title: "Express manicure", minutes: 30, price: 25 },
  { id: 9120004, title: "Brow shaping", minutes: 20, price: 18 },
];
const STAFF = [
  { id: 2281, name: "Anna Keller", role: "Senior stylist", rating: "4.9", initials: "AK" },
  { id: 2282, name: "Jonas Weber", role: "Colourist", rating: "4.8", initials: "JW" },
  { id: 2283, name: "Mia Schulz", role: "Nail & brow artist", rating: "5.0", initials: "MS" },
];
const TIMES = ["10:00", "11:30", "13:00", "14:30", "16:00", "17:30"];

/** Every message posted, in order (read by the end-to-end tests). */
const posted = [];
window.standin = { posted };

const state = {
  screen: "services",
  services: [],
  staff: null,
  date: null,
  time: null,
  booking: null,
  reviewed: false,
  notice: "",
};

function post(action, params) {
  const message = params === undefined ? { action } : { action, params };
  posted.push(message);
  window.parent.postMessage(message, "*");
}

// ---- helpers ------------------------------------------------------------------------------

const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
};

const pad = (n) => String(n).padStart(2, "0");
const isoDate = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const datetime = (date, time) => `${date}T${time}:00${TZ}`;
const dayLabel = (iso, style = "short") =>
  new Date(`${iso}T12:00:00`).toLocaleDateString("en-GB", { weekday: style, day: "numeric", month: style });
const euros = (n) => `€${n}`;
const chosenServices = () => SERVICES.filter((s) => state.services.includes(s.id));
const total = () => chosenServices().reduce((sum, s) => sum + s.price, 0);
const minutes = () => chosenServices().reduce((sum, s) => sum + s.minutes, 0);

function upcomingDays(count) {
  const days = [];
  const d = new Date();
  for (let i = 1; days.length < count; i++) {
    const day = new Date(d.getFullYear(), d.getMonth(), d.getDate() + i);
    if (day.getDay() !== 0) days.push(isoDate(day)); // closed on Sundays
  }
  return days;
}

function randomCode() {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  return Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => alphabet[b % alphabet.length]).join("");
}

// ---- screens -------------------------------------------------------------------------------

const STEPS = ["services", "staff", "date", "time", "contacts"];
const TITLES = {
  services: "Choose services",
  staff: "Choose a specialist",
  date: "Choose a date",
  time: "Choose a time",
  contacts: "Your details",
  booked: "Booking confirmed",
  change: "Move your appointment",
  review: "Rate your visit",
  cancelled: "Appointment cancelled",
};

function go(screen) {
  state.screen = screen;
  render();
}

function servicesScreen() {
  return el("ul", { class: "list" }, SERVICES.map((s) => {
    const selected = state.services.includes(s.id);
    return el("li", {},
      el("button", {
        type: "button",
        class: `row${selected ? " selected" : ""}`,
        dataset: { service: String(s.id) },
        "aria-pressed": String(selected),
        onclick: () => {
          if (selected) {
            state.services = state.services.filter((id) => id !== s.id);
          } else {
            state.services = [...state.services, s.id];
            post("service_selected", { companyId: COMPANY.id, serviceId: s.id });
          }
          render();
        },
      },
      el("span", { class: "check", "aria-hidden": "true" }, selected ? "✓" : ""),
      el("span", { class: "row-main" }, el("strong", {}, s.title), el("small", {}, `${s.minutes} min`)),
      el("span", { class: "price" }, euros(s.price))));
  }));
}

function staffScreen() {
  return el("ul", { class: "list" }, STAFF.map((m) =>
    el("li", {},
      el("button", {
        type: "button",
        class: `row${state.staff === m.id ? " selected" : ""}`,
        dataset: { staff: String(m.id) },
        onclick: () => {
          state.staff = m.id;
          post("master_selected", { companyId: COMPANY.id, staffId: m.id });
          go("date");
        },
      },
      el("span", { class: "avatar", "aria-hidden": "true" }, m.initials),
      el("span", { class: "row-main" }, el("strong", {}, m.name), el("small", {}, m.role)),
      el("span", { class: "rating" }, `★ ${m.rating}`)))));
}

function dateScreen() {
  return el("div", { class: "days" }, upcomingDays(9).map((iso) => {
    const d = new Date(`${iso}T12:00:00`);
    return el("button", {
      type: "button",
      class: `day${state.date === iso ? " selected" : ""}`,
      dataset: { date: iso },
      onclick: () => {
        state.date = iso;
        post("date_selected", { companyId: COMPANY.id, date: iso });
        go("time");
      },
    },
    el("small", {}, d.toLocaleDateString("en-GB", { weekday: "short" })),
    el("strong", {}, String(d.getDate())),
    el("small", {}, d.toLocaleDateString("en-GB", { month: "short" })));
  }));
}

function timeSlots(onPick, current) {
  return el("div", { class: "slots" }, TIMES.map((t) =>
    el("button", {
      type: "button",
      class: `slot${current === t ? " selected" : ""}`,
      dataset: { time: t },
      onclick: () => onPick(t),
    }, t)));
}

function timeScreen() {
  return el("div", {},
    el("p", { class: "hint" }, dayLabel(state.date, "long")),
    timeSlots((t) => {
      state.time = t;
      post("time_selected", { companyId: COMPANY.id, datetime: datetime(state.date, t) });
      go("contacts");
    }, state.time));
}

function field(label, props) {
  return el("label", { class: "field" }, el("span", {}, label), el("input", props));
}

function contactsScreen() {
  return el("form", { class: "form", id: "contacts", onsubmit: (e) => { e.preventDefault(); book(); } },
    summaryCard(),
    field("Name", { name: "name", autocomplete: "name", value: "Lena Hoffmann", required: true }),
    field("Phone", { name: "phone", type: "tel", autocomplete: "tel", value: "+49 151 2345 6789", required: true }),
    field("Email", { name: "email", type: "email", autocomplete: "email", value: "lena.hoffmann@example.com" }),
    el("label", { class: "consent" }, el("input", { type: "checkbox", checked: true }), el("span", {}, "I agree to the salon's booking terms")));
}

function summaryCard() {
  const staff = STAFF.find((m) => m.id === state.staff);
  return el("div", { class: "summary" },
    el("div", {}, el("strong", {}, chosenServices().map((s) => s.title).join(", "))),
    el("div", { class: "muted" }, `${staff?.name ?? ""} · ${dayLabel(state.date)} · ${state.time} · ${minutes()} min`),
    el("div", { class: "summary-total" }, euros(total())));
}

/** Contacts sent, the record created: `send_contacts`, then `booked`, then `Schedule`. */
function book() {
  post("send_contacts", { companyId: COMPANY.id });
  const recordId = 600000000 + Math.floor(Math.random() * 90000000);
  state.booking = {
    recordId,
    code: randomCode(),
    eventId: crypto.randomUUID(),
    datetime: datetime(state.date, state.time),
  };
  post("booked", {
    appointments: [{
      id: recordId,
      services: [...state.services],
      staff_id: state.staff,
      datetime: state.booking.datetime,
      chargeStatus: "not_paid",
      custom_fields: [],
    }],
    code: state.booking.code,
    companyId: COMPANY.id,
    companyName: COMPANY.name,
    isMobile: window.matchMedia("(pointer: coarse)").matches,
    event_id: state.booking.eventId,
  });
  post("Schedule", {});
  state.notice = "";
  go("booked");
}

function bookedScreen() {
  const b = state.booking;
  const staff = STAFF.find((m) => m.id === state.staff);
  return el("div", { class: "done" },
    el("div", { class: "done-icon", "aria-hidden": "true" }, "✓"),
    el("h2", {}, "See you soon!"),
    el("p", { class: "muted" }, `Booking code ${b.code} · record #${b.recordId}`),
    state.notice && el("p", { class: "notice" }, state.notice),
    el("div", { class: "summary" },
      el("div", {}, el("strong", {}, chosenServices().map((s) => s.title).join(", "))),
      el("div", { class: "muted" }, `${staff?.name ?? ""} · ${dayLabel(b.datetime.slice(0, 10))} · ${b.datetime.slice(11, 16)}`),
      el("div", { class: "summary-total" }, euros(total()))),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "ghost", id: "change", onclick: () => go("change") }, "Change time"),
      el("button", { type: "button", class: "ghost", id: "review", disabled: state.reviewed, onclick: () => go("review") },
        state.reviewed ? "Review sent" : "Leave a review"),
      el("button", { type: "button", class: "ghost danger", id: "cancel", onclick: cancel }, "Cancel appointment")));
}

function changeScreen() {
  const current = state.booking.datetime.slice(11, 16);
  return el("div", {},
    el("p", { class: "hint" }, `${dayLabel(state.booking.datetime.slice(0, 10), "long")} · now at ${current}`),
    timeSlots((t) => {
      if (t !== current) {
        state.booking.datetime = datetime(state.booking.datetime.slice(0, 10), t);
        post("appointment_changed", { companyId: COMPANY.id, recordId: state.booking.recordId, datetime: state.booking.datetime });
        state.notice = `Moved to ${t}.`;
      }
      go("booked");
    }, current));
}

function reviewScreen() {
  return el("div", { class: "review" },
    el("p", { class: "hint" }, `How was your visit with ${STAFF.find((m) => m.id === state.staff)?.name}?`),
    el("div", { class: "stars" }, [1, 2, 3, 4, 5].map((n) =>
      el("button", {
        type: "button",
        class: "star",
        dataset: { rating: String(n) },
        "aria-label": `${n} star${n > 1 ? "s" : ""}`,
        onclick: () => {
          post("review_created", { companyId: COMPANY.id, recordId: state.booking.recordId, staffId: state.staff, rating: n });
          state.reviewed = true;
          state.notice = "Thank you for your review!";
          go("booked");
        },
      }, "★"))));
}

function cancel() {
  post("appointment_deleted", { companyId: COMPANY.id, recordId: state.booking.recordId });
  go("cancelled");
}

function cancelledScreen() {
  return el("div", { class: "done" },
    el("div", { class: "done-icon cancelled", "aria-hidden": "true" }, "×"),
    el("h2", {}, "Appointment cancelled"),
    el("p", { class: "muted" }, `Record #${state.booking.recordId} has been cancelled.`),
    el("button", {
      type: "button", class: "primary", id: "again",
      onclick: () => {
        Object.assign(state, { services: [], staff: null, date: null, time: null, booking: null, reviewed: false, notice: "" });
        go("services");
      },
    }, "Book again"));
}

const SCREENS = {
  services: servicesScreen,
  staff: staffScreen,
  date: dateScreen,
  time: timeScreen,
  contacts: contactsScreen,
  booked: bookedScreen,
  change: changeScreen,
  review: reviewScreen,
  cancelled: cancelledScreen,
};

function footer() {
  if (state.screen === "services") {
    return el("button", {
      type: "button", class: "primary", id: "continue", disabled: state.services.length === 0,
      onclick: () => go("staff"),
    }, state.services.length ? `Continue · ${euros(total())}` : "Select a service");
  }
  if (state.screen === "contacts") {
    return el("button", { type: "submit", form: "contacts", class: "primary", id: "book" }, `Book · ${euros(total())}`);
  }
  return null;
}

function render() {
  const step = STEPS.indexOf(state.screen);
  document.getElementById("step-title").textContent = TITLES[state.screen];
  document.getElementById("step-count").textContent = step >= 0 ? `${step + 1} / ${STEPS.length}` : "";
  const back = document.getElementById("back");
  back.hidden = step <= 0 && !["change", "review"].includes(state.screen);
  back.onclick = () => go(step > 0 ? STEPS[step - 1] : "booked");
  document.getElementById("screen").replaceChildren(SCREENS[state.screen]());
  document.getElementById("foot").replaceChildren(...[footer()].filter(Boolean));
  document.body.dataset.screen = state.screen;
}

render();
post("widget_loaded", { companyId: COMPANY.id });
