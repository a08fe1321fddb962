// /studio/review: a dataset's utterances with playback, transcripts to correct, reject and
// restore, the distributions the thresholds judge, and exports downloaded as a zip.
"use strict";

const review = { dataset: "", rows: 0, loads: 0 }; // rows shown, and how often (for tests)
window.review = review;

async function open(event) {
  event?.preventDefault();
  showError(null);
  try {
    review.dataset = $("dataset").value.trim();
    const filter = $("filter").value;
    const [{ utterances }, { charts }] = await Promise.all([
      apiJson(`/v1/datasets/${review.dataset}/utterances${filter ? `?status=${filter}` : ""}`),
      apiJson(`/v1/datasets/${review.dataset}/charts`),
    ]);
    const accepted = utterances.filter((u) => u.status === "accepted");
    const length = (list) => clock(list.reduce((sum, u) => sum + u.duration, 0));
    $("summary").textContent = `${utterances.length} utterances, ${length(utterances)} (min:s); `
      + `${accepted.length} accepted, ${length(accepted)}.`;
    $("charts").innerHTML = charts.map((c) => c.svg).join(""); // drawn by the server (matplotlib)
    $("utterances").tBodies[0].replaceChildren(...utterances.map(row));
    review.rows = utterances.length;
    review.loads += 1;
    $("review").hidden = false;
  } catch (error) {
    showError(error);
  }
}

function cell(content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  return td;
}

function row(utterance) {
  const tr = document.createElement("tr");
  tr.className = utterance.status;
  tr.dataset.id = utterance.id;
  const text = Object.assign(document.createElement("input"), { value: utterance.text });
  text.setAttribute("aria-label", "transcript");
  const m = utterance.metrics;
  const reasons = utterance.reasons.length ? ` (${utterance.reasons.join("; ")})` : "";
  const buttons = document.createElement("span");
  buttons.append(
    button("play", () => playUtterance(review.dataset, utterance.id)),
    button("save text", () => revise(utterance.id, { text: text.value })),
    utterance.status === "accepted"
      ? button("reject", () => revise(utterance.id, { status: "rejected" }))
      : button("restore", () => revise(utterance.id, { status: "accepted" })),
  );
  tr.append(
    cell(utterance.speaker),
    cell(utterance.prompt ? `${utterance.prompt.set} #${utterance.prompt.number}` : ""),
    cell(text),
    cell(`${utterance.status}${reasons}`),
    cell(utterance.duration.toFixed(1)),
    cell(m.snr_db === undefined ? "" : m.snr_db.toFixed(0)),
    cell(m.prompt_cer === undefined ? "" : m.prompt_cer.toFixed(2)),
    cell(buttons),
  );
  return tr;
}

async function revise(id, change) {
  await api(`/v1/datasets/${review.dataset}/utterances/${id}`, {
    method: "PATCH",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(change),
  });
  await open();
}

async function exportZip() {
  const format = $("format").value;
  $("export-status").textContent = "exporting…";
  try {
    const blob = await (await api(`/v1/datasets/${review.dataset}/export?format=${format}`, { method: "POST" })).blob();
    const link = Object.assign(document.createElement("a"), {
      href: URL.createObjectURL(blob),
      download: `${review.dataset}-${format}.zip`,
    });
    link.click();
    $("export-status").textContent = `${(blob.size / 2 ** 20).toFixed(1)} MB downloaded`;
  } catch (error) {
    $("export-status").textContent = "";
    showError(error);
  }
}

$("pick").addEventListener("submit", open);
$("export").addEventListener("click", exportZip);
$("token").addEventListener("change", fillDatasets);
remember(["token", "dataset"]);
fillDatasets();
