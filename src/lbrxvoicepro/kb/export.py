"""A sentence-transformers model to one ONNX graph (mean pooling and normalisation inside),
optionally quantised to int8.

Two layouts (``embeddings.export_layout`` picks one):

- ``flat`` (BERT encoders with absolute positions, e.g. all-MiniLM-L6-v2): the batch's real
  tokens run as one (tokens, hidden) matrix through every linear layer, layer norm and GELU, so
  texts of any lengths share one inference and no padding is computed; only attention sees rows,
  into which short texts are packed several to a row and kept apart by an additive mask.
- ``padded`` (any other model): the usual (texts, longest) batch with an attention mask.

Run as a child process by ``embeddings.export_onnx``: tracing imports torch (hundreds of MB that a
server would otherwise keep) and makes torch, transformers and ONNX Runtime's quantiser print
warnings meant for their developers. The child's output is shown only if the export fails.

    python -m lbrxvoicepro.kb.export MODEL_DIR OUTPUT.onnx {int8,fp32} {flat,padded}
"""

from __future__ import annotations

import sys
from pathlib import Path

MISSING_BACKEND = 3
"""Exit status when torch or transformers is not installed."""


def export(model_dir: Path, destination: Path, precision: str, layout: str) -> None:
    fp32 = destination.with_name(f"{destination.stem}-fp32.onnx")
    exporter = _export_flat if layout == "flat" else _export_padded
    exporter(model_dir, fp32 if precision == "int8" else destination)
    if precision == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(fp32, destination, weight_type=QuantType.QInt8)
        fp32.unlink()


def _export_padded(model_dir: Path, destination: Path) -> None:
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

    example = torch.ones((2, 8), dtype=torch.int64)
    dynamic = {0: "batch", 1: "tokens"}
    _trace(
        SentenceEncoder(),
        {"input_ids": example, "attention_mask": example, "token_type_ids": 0 * example},
        {"input_ids": dynamic, "attention_mask": dynamic, "token_type_ids": dynamic},
        destination,
    )


def _export_flat(model_dir: Path, destination: Path) -> None:
    import torch
    from transformers import AutoModel

    class FlatBertEncoder(torch.nn.Module):
        """BERT over the real tokens of a batch (inputs: see ``embeddings.flat_inputs``)."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")

        def forward(
            self, input_ids, position_ids, slot_tokens, token_slots, attention_bias, pooling
        ):  # type: ignore[no-untyped-def]
            embeddings = self.bert.embeddings
            hidden = embeddings.LayerNorm(
                embeddings.word_embeddings(input_ids)
                + embeddings.position_embeddings(position_ids)
                + embeddings.token_type_embeddings.weight[0]
            )
            rows, width = attention_bias.shape[0], attention_bias.shape[-1]
            for layer in self.bert.encoder.layer:
                attention = layer.attention.self
                heads, size = attention.num_attention_heads, attention.attention_head_size
                weight = torch.cat(
                    [attention.query.weight, attention.key.weight, attention.value.weight]
                )
                bias = torch.cat([attention.query.bias, attention.key.bias, attention.value.bias])
                qkv = torch.nn.functional.linear(hidden, weight, bias)[slot_tokens]
                qkv = qkv.view(rows, width, 3 * heads, size).transpose(1, 2)
                query, key, value = qkv.split(heads, dim=1)
                scores = query @ key.transpose(-1, -2) / size**0.5 + attention_bias
                context = torch.softmax(scores, dim=-1) @ value
                context = context.transpose(1, 2).reshape(rows * width, heads * size)
                hidden = layer.attention.output(context[token_slots], hidden)
                hidden = layer.output(layer.intermediate(hidden), hidden)
            return torch.nn.functional.normalize(pooling @ hidden, dim=-1)

    # Two texts of 3 and 5 tokens, packed into two rows of width 5.
    example = {
        "input_ids": torch.tensor([101, 2000, 102, 101, 2001, 2002, 2003, 102]),
        "position_ids": torch.tensor([0, 1, 2, 0, 1, 2, 3, 4]),
        "slot_tokens": torch.tensor([0, 1, 2, 0, 0, 3, 4, 5, 6, 7]),
        "token_slots": torch.tensor([0, 1, 2, 5, 6, 7, 8, 9]),
        "attention_bias": torch.zeros(2, 1, 5, 5),
        "pooling": torch.zeros(2, 8),
    }
    dynamic = {
        "input_ids": {0: "tokens"},
        "position_ids": {0: "tokens"},
        "slot_tokens": {0: "slots"},
        "token_slots": {0: "tokens"},
        "attention_bias": {0: "rows", 2: "width", 3: "width"},
        "pooling": {0: "texts", 1: "tokens"},
    }
    _trace(FlatBertEncoder(), example, dynamic, destination)


def _trace(encoder, example, dynamic, destination: Path) -> None:  # type: ignore[no-untyped-def]
    """ONNX graph of ``encoder`` (inputs named and ordered as ``example``; one output,
    ``embedding``, a row per text)."""
    import torch

    with torch.inference_mode():
        torch.onnx.export(
            encoder.eval(),
            tuple(example.values()),
            str(destination),
            input_names=list(example),
            output_names=["embedding"],
            dynamic_axes={**dynamic, "embedding": {0: "texts"}},
            opset_version=17,
            dynamo=False,
        )


def main() -> None:
    model_dir, destination, precision, layout = sys.argv[1:]
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as error:
        print(error, file=sys.stderr)
        sys.exit(MISSING_BACKEND)
    try:
        export(Path(model_dir), Path(destination), precision, layout)
    except Exception as error:  # the process boundary: one line for the parent's error
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
