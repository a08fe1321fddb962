"""What the assistant has said in one turn, on the playback clock: a barge-in keeps only
what was heard."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Reply:
    sentences: list[str] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    """Where each sentence's audio starts in the reply, in seconds."""
    durations: list[float] = field(default_factory=list)
    playback_start: float | None = None
    """``time.perf_counter()`` when the first audio was sent (its playback start)."""

    def add(self, sentence: str, duration: float) -> None:
        self.starts.append(self.starts[-1] + self.durations[-1] if self.starts else 0.0)
        self.sentences.append(sentence)
        self.durations.append(duration)

    def spoken_text(self, now: float) -> str:
        """The sentences heard by ``now``; a sentence cut short keeps its heard share of words."""
        if self.playback_start is None:
            return ""
        heard = now - self.playback_start
        spoken = []
        for sentence, start, duration in zip(
            self.sentences, self.starts, self.durations, strict=True
        ):
            share = (heard - start) / duration if duration else 1.0
            if share >= 1.0:
                spoken.append(sentence)
            else:
                words = sentence.split()[: max(0, int(len(sentence.split()) * share))]
                if words:
                    spoken.append(" ".join(words) + "…")
                break
        return " ".join(spoken)
