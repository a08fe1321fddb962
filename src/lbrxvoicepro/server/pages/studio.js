// /studio: prompted reading. Each take is captured losslessly (16-bit PCM from an AudioWorklet,
// at the device's own rate, with the browser's echo cancellation, gain control and noise
// suppression off), kept on the page until the server has stored it (it is sent again while
// the server is unreachable), then judged by the server: the verdict, its reasons and the take
// history are shown. Every judgement is the server's.
"use strict";

const QUIET_PEAK = 0.03; // a take whose peak stays below this after a second and a half is too quiet
const CLIPPED_PEAK = 0.99;

const studio = {
  dataset: "",
  speaker: "",
  promptSet: "",
  prompts: [], // [{number, text, takes}] from /progress
  number: 1, // the prompt on screen
  context: null, // the session's AudioContext
  recording: null,
  pending: [], // takes not yet stored by the server: {number, pcm, rate}
  delivering: false,
  // what the page captured and sent (for tests and the curious)
  stats: { captured: 0, sampleRate: 0, sent: 0, verdicts: [], skipped: 0, peak: 0 },
};
window.studio = studio;

function status(text, kind = "") {
  $("status").textContent = text;
  $("status").className = kind;
}

const query = (extra = {}) =>
  new URLSearchParams({ speaker: studio.speaker, prompts: studio.promptSet, ...extra });

async function begin(event) {
  event.preventDefault();
  showError(null);
  if (!$("consent").checked) {
    showError("Recording needs the speaker's consent: tick the box above.");
    return;
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    showError("This page needs the microphone, which browsers allow only on https:// or localhost.");
    return;
  }
  try {
    studio.dataset = $("dataset").value.trim();
    studio.speaker = $("speaker").value.trim();
    await api(`/v1/datasets/${studio.dataset}`, { method: "POST" });
    await api(`/v1/datasets/${studio.dataset}/speakers`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        id: studio.speaker,
        name: $("speaker-name").value.trim(),
        language: $("language").value,
        consent: true,
      }),
    });
    studio.promptSet = $("prompt-set").value;
    const file = $("prompt-file").files[0];
    if (file) {
      studio.promptSet = file.name.replace(/\.[^.]*$/, "").replace(/[^\w.-]/g, "_").replace(/^[^A-Za-z0-9]+/, "") || "prompts";
      await api(`/v1/datasets/${studio.dataset}/prompts/${studio.promptSet}`, {
        method: "PUT",
        headers: { "Content-Type": "text/plain; charset=utf-8" },
        body: await file.text(),
      });
    }
    await openAudio();
    const progress = await refresh();
    $("prompt").lang = $("language").value;
    $("reading").hidden = false;
    $("setup").hidden = true;
    show(progress.resume_at);
  } catch (error) {
    showError(error);
  }
}

async function refresh() {
  const progress = await apiJson(`/v1/datasets/${studio.dataset}/progress?${query()}`);
  studio.prompts = progress.prompts;
  $("total").textContent = progress.total;
  $("done").textContent = progress.done;
  $("recorded").textContent = clock(progress.seconds_recorded);
  $("accepted").textContent = clock(progress.seconds_accepted);
  return progress;
}

function show(number) {
  studio.number = Math.min(Math.max(number, 1), studio.prompts.length);
  $("number").textContent = studio.number;
  $("prompt").textContent = studio.prompts[studio.number - 1].text;
  $("verdict").hidden = true;
  listTakes();
}

function listTakes() {
  const takes = studio.prompts[studio.number - 1].takes;
  $("takes").replaceChildren(
    ...takes.map((take) => {
      const item = document.createElement("li");
      item.className = take.status;
      const cer = take.metrics.prompt_cer;
      item.textContent = `${take.status === "accepted" ? "kept" : "set aside"} · ${take.duration.toFixed(1)} s`
        + (cer === undefined ? "" : ` · CER ${cer.toFixed(2)}`)
        + (take.reasons.length ? ` · ${take.reasons.join("; ")}` : "");
      item.append(button("play", () => playUtterance(studio.dataset, take.id)));
      const restore = take.status !== "accepted";
      item.append(button(restore ? "keep this take" : "set aside", () => revise(take.id, restore)));
      return item;
    }),
  );
}

async function revise(id, keep) {
  await api(`/v1/datasets/${studio.dataset}/utterances/${id}`, {
    method: "PATCH",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ status: keep ? "accepted" : "rejected" }),
  });
  await refresh();
  listTakes();
}

const MICROPHONE = {
  audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
};

// One audio context for the session, at the microphone's own rate (nothing is resampled), with
// the capture worklet loaded once: a take then needs nothing from the server until it is sent.
async function openAudio() {
  if (studio.context) return;
  const probe = await navigator.mediaDevices.getUserMedia(MICROPHONE);
  const rate = probe.getAudioTracks()[0].getSettings().sampleRate;
  probe.getTracks().forEach((track) => track.stop());
  studio.context = rate ? new AudioContext({ sampleRate: rate }) : new AudioContext();
  await studio.context.audioWorklet.addModule("/pages/capture-worklet.js");
}

async function record() {
  showError(null);
  $("verdict").hidden = true;
  // the take exists from the key press on, so a second press stops it rather than starting
  // another while the microphone opens
  const take = { frames: [], samples: 0, peak: 0, number: studio.number, stopAsked: false };
  studio.recording = take;
  studio.stats.captured = 0;
  const context = studio.context;
  try {
    take.stream = await navigator.mediaDevices.getUserMedia(MICROPHONE);
    await context.resume();
  } catch (error) {
    studio.recording = null;
    throw new Error(`No microphone: ${error.message || error.name}`);
  }
  const node = new AudioWorkletNode(context, "pcm16-capture", { numberOfOutputs: 0 });
  take.source = context.createMediaStreamSource(take.stream);
  studio.stats.sampleRate = context.sampleRate;
  $("rate").textContent = `${context.sampleRate} Hz, 16-bit`;
  $("clipping").hidden = true;
  $("quiet").hidden = true;
  node.port.onmessage = ({ data }) => {
    if (studio.recording !== take) return;
    take.frames.push(new Int16Array(data.pcm));
    take.samples += data.pcm.byteLength / 2;
    take.peak = Math.max(take.peak, data.peak);
    studio.stats.captured = take.samples / context.sampleRate;
    studio.stats.peak = take.peak;
    $("level").value = data.peak;
    if (data.peak >= CLIPPED_PEAK) $("clipping").hidden = false;
    $("quiet").hidden = !(studio.stats.captured > 1.5 && take.peak < QUIET_PEAK);
  };
  take.source.connect(node);
  status("recording", "recording");
  if (take.stopAsked) await stopRecording();
}

async function stopRecording() {
  const take = studio.recording;
  if (!take.source) {
    take.stopAsked = true; // still opening the microphone: stopped as soon as it is open
    return;
  }
  studio.recording = null;
  take.source.disconnect();
  take.stream.getTracks().forEach((track) => track.stop());
  const rate = studio.context.sampleRate;
  $("level").value = 0;
  const pcm = new Int16Array(take.samples);
  let offset = 0;
  for (const frame of take.frames) {
    pcm.set(frame, offset);
    offset += frame.length;
  }
  if (!pcm.length) {
    status("idle");
    showError("Nothing was captured: is the microphone working?");
    return;
  }
  studio.pending.push({ number: take.number, pcm, rate });
  deliver();
}

// Sends the kept takes in order; a take leaves the page only once the server has stored it.
async function deliver() {
  if (studio.delivering) return;
  studio.delivering = true;
  let wait = 500;
  while (studio.pending.length) {
    const take = studio.pending[0];
    status("judging…");
    let verdict;
    try {
      const params = query({ number: take.number, sample_rate: take.rate });
      verdict = await apiJson(`/v1/datasets/${studio.dataset}/takes?${params}`, {
        method: "POST",
        headers: { "Content-Type": "application/octet-stream" },
        body: take.pcm,
      });
    } catch (error) {
      if (error instanceof ApiError && error.status < 500 && ![408, 429].includes(error.status)) {
        studio.pending.shift(); // refused as it is: sending it again would not help
        showError(`The take was refused: ${error.message}`);
        continue;
      }
      status(`server unreachable: ${studio.pending.length} take(s) kept here, trying again`, "recording");
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 4000);
      continue;
    }
    wait = 500;
    studio.pending.shift();
    studio.stats.sent += 1;
    studio.stats.verdicts.push(verdict);
    await refresh().catch(showError);
    if (take.number === studio.number) {
      showVerdict(verdict);
      listTakes();
    }
  }
  studio.delivering = false;
  if (!studio.recording) status("idle");
}

function showVerdict(verdict) {
  const keep = verdict.suggestion === "keep";
  $("verdict").className = keep ? "keep" : "redo";
  $("suggestion").textContent = keep ? "Keep: a good take" : "Redo this prompt";
  const why = keep ? ["every check passed"] : verdict.reasons;
  $("why").replaceChildren(...why.map((reason) => Object.assign(document.createElement("li"), { textContent: reason })));
  const m = verdict.metrics;
  const measures = [
    ["speech", `${verdict.duration.toFixed(2)} s of ${verdict.take_seconds.toFixed(2)} s`],
    ["SNR", `${m.snr_db.toFixed(1)} dB`],
    ["clipped samples", `${(m.clipping_ratio * 100).toFixed(2)} %`],
    ["loudness", `${m.loudness_lufs.toFixed(1)} LUFS`],
    ["CER against the prompt", m.prompt_cer.toFixed(3)],
    ["stored at", `${verdict.sample_rate} Hz, lossless`],
  ];
  $("measures").replaceChildren(
    ...measures.flatMap(([name, value]) => [
      Object.assign(document.createElement("dt"), { textContent: name }),
      Object.assign(document.createElement("dd"), { textContent: value }),
    ]),
  );
  $("heard").textContent = verdict.heard;
  drawWaveform(verdict);
  $("verdict").hidden = false;
}

function drawWaveform(verdict) {
  const canvas = $("waveform");
  const paint = canvas.getContext("2d");
  const { width, height } = canvas;
  paint.clearRect(0, 0, width, height);
  const [start, end] = verdict.speech.map((t) => (t / verdict.take_seconds) * width);
  paint.fillStyle = "#dfeedd";
  paint.fillRect(start, 0, end - start, height);
  const step = width / Math.max(verdict.waveform.length, 1);
  verdict.waveform.forEach((peak, i) => {
    const x = i * step;
    paint.fillStyle = x >= start && x <= end ? "#2a8a3a" : "#9aa0ad";
    paint.fillRect(x, (height * (1 - peak)) / 2, Math.max(step - 1, 1), height * peak);
  });
}

const KEYS = {
  " ": () => (studio.recording ? stopRecording() : record()),
  r: () => (studio.recording ? stopRecording() : record()),
  d: () => (studio.recording ? null : record()),
  p: () => {
    const takes = studio.prompts[studio.number - 1].takes;
    return takes.length ? playUtterance(studio.dataset, takes[takes.length - 1].id) : null;
  },
  Enter: () => show(studio.number + 1),
  ArrowRight: () => show(studio.number + 1),
  ArrowLeft: () => show(studio.number - 1),
  b: () => show(studio.number - 1),
  s: () => {
    studio.stats.skipped += 1;
    show(studio.number + 1);
  },
};

document.addEventListener("keydown", (event) => {
  const action = KEYS[event.key.length === 1 ? event.key.toLowerCase() : event.key];
  if ($("reading").hidden || !action || event.target.matches("input, select, textarea")) return;
  event.preventDefault();
  if (studio.recording && ![" ", "r", "R"].includes(event.key)) return; // stop first
  Promise.resolve(action()).catch(showError);
});

$("setup").addEventListener("submit", begin);
$("dataset").addEventListener("change", async () => {
  try {
    const { sets } = await apiJson(`/v1/datasets/${$("dataset").value.trim()}/prompts`);
    $("prompt-set").replaceChildren(...sets.map((name) => new Option(name)));
  } catch (_) {
    // a new dataset: the bundled set until it exists
  }
});
$("token").addEventListener("change", fillDatasets);
remember(["token", "dataset", "speaker", "speaker-name", "language"]);
fillDatasets();
