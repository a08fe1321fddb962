// /talk: the microphone to /v1/stream/converse as 16 kHz PCM16 frames; the answer's audio
// played as it streams in. Every decision (end of turn, barge-in) is the server's; the page
// shows the events and plays what it is sent.
"use strict";

const $ = (id) => document.getElementById(id);
const talk = {
  socket: null,
  microphone: null,
  capture: null,
  playback: null,
  sampleRate: 0, // of the binary frame announced by the last "audio" event
  playUntil: 0,
  sources: new Set(),
  answer: null, // the assistant's paragraph being written
  heard: null, // the user's paragraph while they speak: partials, then the transcript
  turns: 0,
  // what the page received and played, in seconds of answer audio (for tests and the curious)
  stats: { received: 0, played: 0, transcripts: [] },
};
window.talk = talk;

function status(text) {
  $("status").textContent = text;
}

function say(kind, text) {
  const line = document.createElement("p");
  line.className = kind;
  line.textContent = text;
  $("log").append(line);
  line.scrollIntoView({ block: "nearest" });
  return line;
}

function fail(message) {
  $("error").textContent = message;
  stop();
}

async function start(event) {
  event.preventDefault();
  $("error").textContent = "";
  if (!navigator.mediaDevices?.getUserMedia) {
    fail("This page needs the microphone, which browsers allow only on https:// or localhost.");
    return;
  }
  $("start").disabled = true;
  $("stop").disabled = false;
  status("connecting…");
  try {
    talk.microphone = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
  } catch (error) {
    fail(`No microphone: ${error.message || error.name}`);
    return;
  }
  talk.playback = new AudioContext();
  talk.capture = new AudioContext({ sampleRate: 16000 });
  await talk.capture.audioWorklet.addModule("/pages/capture-worklet.js");
  const params = new URLSearchParams();
  for (const name of ["token", "language", "voice", "kb"]) {
    const value = $(name).value.trim();
    if (value) params.set(name, value);
  }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/v1/stream/converse?${params}`);
  socket.binaryType = "arraybuffer";
  socket.onmessage = receive;
  socket.onclose = (closed) => {
    if (talk.socket !== socket) return;
    talk.socket = null;
    if (closed.code >= 4000 || closed.code === 1003 || closed.code === 1011) {
      fail(`The server ended the conversation: ${closed.reason || closed.code}`);
    } else {
      stop();
    }
  };
  socket.onopen = () => {
    const source = talk.capture.createMediaStreamSource(talk.microphone);
    // no outputs: the node is pulled by the browser without being heard
    const node = new AudioWorkletNode(talk.capture, "pcm16-capture", { numberOfOutputs: 0 });
    node.port.onmessage = ({ data }) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(data.pcm);
      $("level").value = data.peak;
    };
    source.connect(node);
    status("listening");
  };
  talk.socket = socket;
}

function stop() {
  const socket = talk.socket;
  talk.socket = null;
  if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
  silence();
  talk.microphone?.getTracks().forEach((track) => track.stop());
  talk.capture?.close();
  talk.playback?.close();
  talk.microphone = talk.capture = talk.playback = null;
  $("start").disabled = false;
  $("stop").disabled = true;
  $("level").value = 0;
  status("idle");
}

function receive({ data }) {
  if (data instanceof ArrayBuffer) {
    play(new Int16Array(data), talk.sampleRate);
    return;
  }
  const event = JSON.parse(data);
  switch (event.type) {
    case "session":
      $("session").textContent = `session ${event.id}`;
      $("session").dataset.id = event.id;
      break;
    case "speech_started":
      status("hearing you");
      break;
    case "speech_stopped":
      status("thinking");
      break;
    case "partial":
      talk.heard ??= say("user partial", "");
      talk.heard.textContent = `${event.text} …`;
      break;
    case "transcript":
      talk.stats.transcripts.push(event.text);
      if (event.text.trim()) {
        talk.heard ??= say("user", "");
        talk.heard.textContent = event.text;
        talk.heard.className = "user";
      } else {
        talk.heard?.remove();
      }
      talk.heard = null;
      break;
    case "llm_delta":
      talk.answer ??= say("assistant", "");
      talk.answer.textContent += event.text;
      break;
    case "audio":
      talk.sampleRate = event.sample_rate;
      status("speaking");
      break;
    case "barge_in":
      silence();
      if (talk.answer) {
        talk.answer.textContent = event.spoken;
        talk.answer.classList.add("interrupted");
      }
      talk.answer = null;
      status("hearing you");
      break;
    case "backchannel":
      say("note", `(heard ${event.duration.toFixed(1)} s over the answer: it goes on)`);
      break;
    case "error":
      say("note", `This answer failed: ${event.message}`);
      talk.answer = null;
      break;
    case "turn":
      talk.answer = null;
      timings(event.timings);
      status("listening");
      break;
  }
}

function play(pcm, rate) {
  const context = talk.playback;
  if (!context || !rate) return;
  const buffer = context.createBuffer(1, pcm.length, rate);
  const samples = buffer.getChannelData(0);
  for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i] / 32768;
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.connect(context.destination);
  // back to back; after a gap (the first frame, a pause) a little slack against jitter
  const at = Math.max(talk.playUntil, context.currentTime + 0.03);
  source.start(at);
  talk.playUntil = at + buffer.duration;
  talk.stats.received += buffer.duration;
  talk.sources.add(source);
  source.onended = () => {
    talk.sources.delete(source);
    if (talk.playback === context) {
      talk.stats.played += Math.max(0, Math.min(buffer.duration, context.currentTime - at));
    }
  };
}

function silence() {
  for (const source of talk.sources) source.stop();
  talk.sources.clear();
  talk.playUntil = 0;
}

function timings(measured) {
  const table = $("timings");
  table.hidden = false;
  const row = table.tBodies[0].insertRow();
  const cells = ["end_of_turn_ms", "asr_ms", "retrieval_ms", "llm_first_token_ms", "first_audio_ms"];
  row.insertCell().textContent = ++talk.turns;
  for (const name of cells) {
    const value = measured[name];
    row.insertCell().textContent = value === undefined ? "–" : `${Math.round(value)} ms`;
  }
}

$("settings").addEventListener("submit", start);
$("stop").addEventListener("click", stop);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") stop();
});
