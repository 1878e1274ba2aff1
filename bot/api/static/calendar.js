// calbot's web calendar: shows each time in the viewer's own zone and places each event on the viewer's day,
// then swaps months in without a reload. It only ever sets textContent: every text arrives escaped in the
// HTML and stays text.
"use strict";

const SHOWN_PER_DAY = 4;
const dayKey = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit" });
const timeText = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayText = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });

function localDay(instant) {
  return dayKey.format(instant); // YYYY-MM-DD in the viewer's zone
}

function addDays(key, days) {
  const [y, m, d] = key.split("-").map(Number);
  const day = new Date(Date.UTC(y, m - 1, d + days));
  return day.toISOString().slice(0, 10);
}

// The days an event covers for this viewer: an all-day event's own dates; else the viewer's days of its
// start and (for one lasting a day or more) of its last instant.
function span(item) {
  if (item.hasAttribute("data-all-day")) return [item.dataset.first, item.dataset.last];
  const start = new Date(item.dataset.start);
  const first = localDay(start);
  if (!item.hasAttribute("data-spans") || !item.dataset.end) return [first, first];
  return [first, localDay(new Date(new Date(item.dataset.end).getTime() - 1000))];
}

function chip(item, withTime) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = "#" + item.id;
  link.className = "chip " + [...item.classList].filter((c) => c.startsWith("colour-") || c === "cancelled").join(" ");
  const name = item.querySelector(".name").textContent;
  const series = item.querySelector(".series") ? "↻ " : "";
  const time = withTime && !item.hasAttribute("data-all-day") ? timeText.format(new Date(item.dataset.start)) + " " : "";
  link.textContent = series + time + name;
  link.title = link.textContent;
  link.addEventListener("click", () => {
    item.querySelector("details").open = true;
  });
  li.append(link);
  return li;
}

function render(view) {
  document.getElementById("viewer-zone").textContent = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const month = view.dataset.month;
  const cells = new Map([...view.querySelectorAll("td[data-date]")].map((td) => [td.dataset.date, td]));
  let shown = 0;
  for (const item of view.querySelectorAll("#agenda > li")) {
    const [first, last] = span(item);
    if (!item.hasAttribute("data-all-day")) {
      const start = new Date(item.dataset.start);
      const time = item.querySelector("time");
      time.textContent = dayText.format(start) + " " + timeText.format(start);
    }
    const inMonth = first.slice(0, 7) <= month && last.slice(0, 7) >= month;
    item.hidden = !inMonth;
    shown += inMonth ? 1 : 0;
    for (let day = first, n = 0; day <= last && n < 366; day = addDays(day, 1), n++) {
      const cell = cells.get(day);
      if (cell) cell.querySelector(".chips").append(chip(item, day === first));
    }
  }
  view.querySelector("#empty").hidden = shown > 0;
  cells.get(localDay(new Date()))?.classList.add("today");
  for (const cell of cells.values()) {
    const chips = cell.querySelectorAll(".chips > li");
    if (chips.length <= SHOWN_PER_DAY) continue;
    [...chips].slice(SHOWN_PER_DAY - 1).forEach((c) => { c.hidden = true; });
    const more = document.createElement("li");
    const link = document.createElement("a");
    link.className = "more";
    link.href = chips[SHOWN_PER_DAY - 1].firstChild.getAttribute("href");
    link.textContent = "+" + (chips.length - SHOWN_PER_DAY + 1) + " more";
    more.append(link);
    cell.querySelector(".chips").append(more);
  }
}

async function go(url, push) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
  } catch {
    response = null;
  }
  if (!response || !response.ok) {
    window.location.assign(url); // let the browser show what went wrong
    return;
  }
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = document.adoptNode(page.getElementById("view"));
  document.getElementById("view").replaceWith(fresh);
  document.title = page.title;
  if (push) history.pushState(null, "", url);
  shownPage = window.location.pathname + window.location.search;
  wire(fresh);
}

function wire(view) {
  render(view);
  for (const link of view.querySelectorAll("a.nav")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      go(link.href, true);
    });
  }
}

// Back and Forward between months; a chip's #anchor changes only the fragment, and stays on this month.
let shownPage = window.location.pathname + window.location.search;
window.addEventListener("popstate", () => {
  const page = window.location.pathname + window.location.search;
  if (page !== shownPage) go(window.location.href, false);
});
document.addEventListener("DOMContentLoaded", () => wire(document.getElementById("view")));
