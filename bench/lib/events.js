// The widget events every SDK is fed, in the same order: a booking flow's five steps in turn
// (service_selected, master_selected, date_selected, time_selected, booked), so one event in
// five is a `booked` carrying the FACTS §2 payload {appointments, code, companyId,
// companyName, isMobile, event_id}. Each booked has its own event_id and record id (our
// module drops a repeated event_id as a duplicate, which would be cheaper, not fairer).
// Runs in the page (served as /bench/lib/events.js) and in Node.
const COMPANY = 123456;

export function makeEvent(i) {
  const service = 1000 + (i % 37);
  const staff = 2000 + (i % 11);
  const datetime = `2026-12-${String(1 + (i % 28)).padStart(2, "0")}T10:30:00+03:00`;
  switch (i % 5) {
    case 0: return ["service_selected", { companyId: COMPANY, service_id: service, isMobile: false }];
    case 1: return ["master_selected", { companyId: COMPANY, staff_id: staff, isMobile: false }];
    case 2: return ["date_selected", { companyId: COMPANY, date: datetime.slice(0, 10), isMobile: false }];
    case 3: return ["time_selected", { companyId: COMPANY, datetime, isMobile: false }];
    default: return ["booked", {
      appointments: [{
        services: [service, 1001],
        staff_id: staff,
        datetime,
        chargeStatus: "",
        custom_fields: [],
        id: 50_000_000 + i,
      }],
      code: `BK${i}`,
      companyId: COMPANY,
      companyName: "Studio Bench",
      isMobile: false,
      event_id: `evt-${i}`,
    }];
  }
}
