"""A sentence-transformers model to one ONNX graph (mean pooling and normalisation inside),
optionally quantised to int8.

Run as a child process by ``embeddings.export_onnx``: tracing imports torch (hundreds of MB that a
server would otherwise keep) and makes torch, transformers and ONNX Runtime's quantiser print
warnings meant for their developers. The child's output is shown only if the export fails.

    python -m lbrxvoicepro.kb.export MODEL_DIR OUTPUT.onnx {int8,fp32}
"""

from __future__ import annotations

import sys
from pathlib import Path

MISSING_BACKEND = 3
"""Exit status when torch or transformers is not installed."""


def export(model_dir: Path, destination: Path, precision: str) -> None:
    fp32 = destination.with_name(f"{destination.stem}-fp32.onnx")
    _export_fp32(model_dir, fp32 if precision == "int8" else destination)
    if precision == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(fp32, destination, weight_type=QuantType.QInt8)
        fp32.unlink()


def _export_fp32(model_dir: Path, destination: Path) -> None:
    import torch
    from transformers import AutoModel

    class SentenceEncoder(torch.nn.Module):
        """Transformer, mean pooling over real tokens, unit length: one ONNX graph."""

        def __init__(self) -> None:
            super().__init__()
            self.transformer = AutoModel.from_pretrained(
                str(model_dir), attn_implementation="eager"
            )

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    encoder = SentenceEncoder().eval()
    example = torch.ones((2, 8), dtype=torch.int64)
    dynamic = {0: "batch", 1: "tokens"}
    with torch.inference_mode():
        torch.onnx.export(
            encoder,
            (example, example, torch.zeros_like(example)),
            str(destination),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": dynamic,
                "attention_mask": dynamic,
                "token_type_ids": dynamic,
                "embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )


def main() -> None:
    model_dir, destination, precision = sys.argv[1:]
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as error:
        print(error, file=sys.stderr)
        sys.exit(MISSING_BACKEND)
    try:
        export(Path(model_dir), Path(destination), precision)
    except Exception as error:  # the process boundary: one line for the parent's error
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
