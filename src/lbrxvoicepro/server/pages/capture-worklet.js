// The microphone's first channel as frames of 1600 mono PCM16 samples at the AudioContext's rate
// (/talk runs it at 16 kHz, so 100 ms; /studio at the device's own rate), each posted with its
// peak level for the meter.
const FRAME = 1600;

class Pcm16Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = new Int16Array(FRAME);
    this.filled = 0;
    this.peak = 0;
  }

  process(inputs) {
    const channel = inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      const sample = Math.max(-1, Math.min(1, channel[i]));
      this.peak = Math.max(this.peak, Math.abs(sample));
      this.frame[this.filled++] = sample < 0 ? sample * 32768 : sample * 32767;
      if (this.filled === FRAME) {
        this.port.postMessage({ pcm: this.frame.buffer, peak: this.peak }, [this.frame.buffer]);
        this.frame = new Int16Array(FRAME);
        this.filled = 0;
        this.peak = 0;
      }
    }
    return true;
  }
}

registerProcessor("pcm16-capture", Pcm16Capture);
