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
  let at = -1;
  const focus = (i) => {
    if (!cards.length) return;
    at = Math.max(0, Math.min(cards.length - 1, i));
    cards.forEach((c, j) => c.classList.toggle("focused", j === at));
    cards[at].querySelector("a.open").focus();
  };
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea")) return;
    const perRow = Math.max(1, Math.round(grid.clientWidth / (cards[0] ? cards[0].offsetWidth : 1)));
    if (e.key === "ArrowRight" || e.key === "j") focus(at + 1);
    else if (e.key === "ArrowLeft" || e.key === "k") focus(at - 1);
    else if (e.key === "ArrowDown") focus(at + perRow);
    else if (e.key === "ArrowUp") focus(at - perRow);
    else if (e.key === "r" && at >= 0) {
      const card = cards[at];
      fetch(`/api/events/${encodeURIComponent(card.dataset.id)}/reviewed`, {
        method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin",
      }).then((r) => { if (r.ok) card.classList.add("reviewed"); });
      focus(at + 1);
    } else return;
    e.preventDefault();
  });
});
