// camsift: keyboard navigation of the review grid and item page, clip previews, confirmations, clip start.
// No inline script (CSP).
"use strict";
// A picture that cannot be loaded (deleted meanwhile) becomes a "picture missing" box, never a broken image.
const missing = (img) => {
  if (img.dataset.live || img.dataset.missing) return;
  img.dataset.missing = "1";
  const box = document.createElement("span");
  box.className = "nopic";
  box.textContent = `picture missing: ${img.alt}`;
  img.replaceWith(box);
};
document.addEventListener("error", (e) => { if (e.target.tagName === "IMG") missing(e.target); }, true);
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("img").forEach((img) => {
    if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) missing(img);
  });
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
  // Live pictures: each camera's latest JPEG fetched again every second while in view. A request ends as
  // soon as its picture is in, so twelve cameras never hold Chromium's six connections per host (MJPEG did).
  const lives = Array.from(document.querySelectorAll("img[data-live]"));
  if (lives.length) {
    const shown = new Set();
    const observer = new IntersectionObserver((entries) => entries.forEach((entry) => {
      if (entry.isIntersecting) shown.add(entry.target); else shown.delete(entry.target);
    }));
    lives.forEach((img) => observer.observe(img));
    const refresh = (img) => fetch(img.dataset.live, { cache: "no-store", credentials: "same-origin" })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(String(r.status)))))
      .then((blob) => {
        const old = img.src;
        img.src = URL.createObjectURL(blob);
        img.dataset.updated = String(Date.now());
        if (old.startsWith("blob:")) URL.revokeObjectURL(old);
      })
      .catch(() => { img.classList.add("stale"); });
    const every = parseInt(lives[0].dataset.every || "1000", 10);
    setInterval(() => {
      if (document.hidden) return;
      shown.forEach((img) => refresh(img));
    }, every);
  }
  const itemNav = document.getElementById("item-actions");
  if (itemNav) {  // the item page: j/k (or arrows) older/newer, r reviewed (then the next item), Esc back
    document.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest("input, select, textarea, video")) return;
      const go = (id) => { const a = document.getElementById(id); if (a) window.location.href = a.href; };
      if (e.key === "j" || e.key === "ArrowRight") go("older");
      else if (e.key === "k" || e.key === "ArrowLeft") go("newer");
      else if (e.key === "Escape") go("back");
      else if (e.key === "r") {
        const mark = document.getElementById("mark-reviewed");
        if (mark) mark.click();
      } else return;
      e.preventDefault();
    });
  }
  const grid = document.getElementById("grid");
  if (!grid) return;
  // Clip preview: hovering a card (mouse) or a first tap on it (touch) plays its clip, muted, in place.
  let touched = false;
  const stopPreview = (card) => {
    const v = card.querySelector("video.preview");
    if (v) { v.pause(); v.remove(); }
    clearTimeout(card.previewTimer);
  };
  const startPreview = (card) => {
    if (card.querySelector("video.preview")) return;
    const v = document.createElement("video");
    v.className = "preview";
    v.muted = true;
    v.playsInline = true;
    v.loop = true;
    v.setAttribute("aria-hidden", "true");
    v.addEventListener("loadedmetadata", () => {
      const start = parseFloat(card.dataset.start || "0");
      if (start > 1 && start < v.duration) v.currentTime = start - 1;
      v.play().catch(() => {});
    }, { once: true });
    v.src = card.dataset.preview;
    card.querySelector("a.open").prepend(v);
  };
  grid.querySelectorAll(".card[data-preview]").forEach((card) => {
    card.addEventListener("pointerdown", (e) => { touched = e.pointerType === "touch"; });
    card.addEventListener("mouseenter", () => {
      card.previewTimer = setTimeout(() => startPreview(card), 350);
    });
    card.addEventListener("mouseleave", () => stopPreview(card));
    card.querySelector("a.open").addEventListener("click", (e) => {
      if (touched && !card.querySelector("video.preview")) {  // first tap previews, the second opens
        e.preventDefault();
        startPreview(card);
      }
    });
  });
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
  // A card is a review item: every call is made for each of its events; resolves to the last answer.
  const api = (card, path, method) =>
    Promise.all(card.dataset.events.split(" ").map((id) =>
      fetch(`/api/events/${encodeURIComponent(id)}${path}`, {
        method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin",
      }).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${r.status} ${r.statusText}`))))))
      .then((answers) => answers[answers.length - 1]);
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
      if (window.confirm("Delete this item, its events and their pictures?")) {
        api(card, "", "DELETE").then(() => removeCard(card), failed("delete it"));
      }
    } else if (e.key === " ") {
      const box = card.querySelector("input[name=selected]");
      box.checked = !box.checked;
    } else return;
    e.preventDefault();
  });
});
