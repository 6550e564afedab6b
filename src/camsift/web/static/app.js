// camsift: keyboard navigation of the review grid, confirmations, clip start. No inline script (CSP).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-confirm]").forEach((button) => {
    button.addEventListener("click", (e) => {
      if (!window.confirm(button.dataset.confirm)) e.preventDefault();
    });
  });
  const clip = document.getElementById("clip");
  if (clip) {
    clip.addEventListener("loadedmetadata", () => {
      const start = parseFloat(clip.dataset.start || "0");
      if (start > 1 && start < clip.duration) clip.currentTime = start - 1;
    }, { once: true });
  }
  const grid = document.getElementById("grid");
  if (!grid) return;
  const cards = Array.from(grid.querySelectorAll(".card"));
  const csrf = document.querySelector("#grid-form input[name=csrf_token]").value;
  const count = document.getElementById("shown-count");
  const status = document.getElementById("grid-status");
  let at = -1;
  const highlight = (i) => {
    at = i;
    cards.forEach((c, j) => c.classList.toggle("focused", j === at));
  };
  const focus = (i) => {
    if (!cards.length) {
      highlight(-1);
      return;
    }
    highlight(Math.max(0, Math.min(cards.length - 1, i)));
    cards[at].querySelector("a.open").focus();
  };
  grid.addEventListener("focusin", (e) => {  // Tab and clicks move the keyboard's card too
    const card = e.target.closest(".card");
    if (card) highlight(cards.indexOf(card));
  });
  // The JSON API with the session's CSRF token; resolves to the answer, rejects saying what failed.
  const api = (card, path, method) =>
    fetch(`/api/events/${encodeURIComponent(card.dataset.id)}${path}`, {
      method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin",
    }).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${r.status} ${r.statusText}`))));
  const failed = (what) => (err) => { status.textContent = `could not ${what}: ${err.message}`; };
  const setPinned = (card, pinned) => {
    card.classList.toggle("pinned", pinned);
    card.querySelector(".pin-mark").hidden = !pinned;
    status.textContent = pinned ? "pinned" : "unpinned";
  };
  const removeCard = (card) => {
    const i = cards.indexOf(card);
    if (i < 0) return;
    card.remove();
    cards.splice(i, 1);
    count.textContent = String(cards.length);
    status.textContent = "deleted";
    if (at > i) highlight(at - 1);  // the focused card moved up one
    else if (at === i) focus(at);  // the next card takes its place
  };
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest("input:not([type=checkbox]), select, textarea, button")) return;
    if (e.key === " " && e.target.matches("input[type=checkbox]")) return;  // the browser toggles it
    const card = at >= 0 ? cards[at] : null;
    const perRow = Math.max(1, Math.round(grid.clientWidth / (cards[0] ? cards[0].offsetWidth : 1)));
    if (e.key === "ArrowRight" || e.key === "j") focus(at + 1);
    else if (e.key === "ArrowLeft" || e.key === "k") focus(at - 1);
    else if (e.key === "ArrowDown") focus(at + perRow);
    else if (e.key === "ArrowUp") focus(at - perRow);
    else if (!card) return;
    else if (e.key === "r") {
      api(card, "/reviewed", "POST").then(() => card.classList.add("reviewed"), failed("mark it reviewed"));
      focus(at + 1);
    } else if (e.key === "p") {
      const pinned = card.classList.contains("pinned");
      api(card, "/retain", pinned ? "DELETE" : "POST")
        .then((marks) => setPinned(card, marks.retain_indefinitely), failed(pinned ? "unpin it" : "pin it"));
    } else if (e.key === "Delete" || e.key === "x") {
      if (window.confirm("Delete this event and its pictures?")) {
        api(card, "", "DELETE").then(() => removeCard(card), failed("delete it"));
      }
    } else if (e.key === " ") {
      const box = card.querySelector("input[name=selected]");
      box.checked = !box.checked;
    } else return;
    e.preventDefault();
  });
});
