// What the studio's two pages share: the API with the user's key, errors shown on the page,
// and audio fetched with that key (an <audio> element cannot send it) played from a blob.
"use strict";

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const token = $("token").value.trim();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = (await response.json()).error?.message || message;
    } catch (_) {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, message);
  }
  return response;
}

async function apiJson(path, options = {}) {
  return (await api(path, options)).json();
}

function showError(error) {
  $("error").textContent = error ? `${error.message || error}` : "";
}

// A small button that runs ``action`` (a promise) and shows its failure on the page.
function button(label, action) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "quiet";
  element.textContent = label;
  element.onclick = () => action().catch(showError);
  return element;
}

// 75.4 seconds → "1:15"
const clock = (seconds) =>
  `${Math.floor(seconds / 60)}:${String(Math.round(seconds % 60)).padStart(2, "0")}`;

let playing = null;

async function playUtterance(dataset, id) {
  const blob = await (await api(`/v1/datasets/${dataset}/utterances/${id}/audio`)).blob();
  if (playing) playing.pause();
  playing = new Audio(URL.createObjectURL(blob));
  playing.onended = () => URL.revokeObjectURL(playing.src);
  await playing.play();
  return playing;
}

// Keys and the last dataset survive a reload in this tab only.
function remember(ids) {
  for (const id of ids) {
    const field = $(id);
    const saved = sessionStorage.getItem(`studio.${id}`);
    if (saved !== null && field.type !== "checkbox") field.value = saved;
    field.addEventListener("change", () => sessionStorage.setItem(`studio.${id}`, field.value));
  }
}

async function fillDatasets() {
  try {
    const { datasets } = await apiJson("/v1/datasets");
    $("datasets").replaceChildren(...datasets.map((name) => new Option(name)));
  } catch (_) {
    // no key yet: the list fills once one is entered
  }
}
