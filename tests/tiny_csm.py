"""A tiny, randomly initialised Sesame CSM built from the real transformers config classes.

It exercises the whole CSM path (tokenizer, processor, backbone, depth decoder, Mimi codec)
in well under a second on a CPU; its speech is noise, which is all a code-path test needs.
"""

from __future__ import annotations

from pathlib import Path

SPECIAL = ["<|begin_of_text|>", "<|end_of_text|>", "<|AUDIO|>", "<|audio_eos|>", "<|pad|>"]
CODEBOOKS = 8


def tiny_mimi_config():  # type: ignore[no-untyped-def]
    """The smallest Mimi that still encodes and decodes 24 kHz audio at 12.5 Hz."""
    from transformers import MimiConfig

    return MimiConfig(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        head_dim=16,
        intermediate_size=128,
        num_filters=8,
        codebook_dim=32,
        vector_quantization_hidden_dimension=32,
        num_quantizers=CODEBOOKS,
        codebook_size=2048,
        upsample_groups=64,
    )


def build_tiny_csm(directory: Path) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        CsmConfig,
        CsmForConditionalGeneration,
        CsmProcessor,
        EncodecFeatureExtractor,
        PreTrainedTokenizerFast,
    )

    torch.manual_seed(0)
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(
        ["Dzień dobry, to jest test syntezy mowy. Hello world [0] [1]"],
        trainers.BpeTrainer(
            vocab_size=400,
            special_tokens=SPECIAL,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    text_tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|begin_of_text|>",
        eos_token="<|end_of_text|>",
        pad_token="<|pad|>",
    )
    ids = {token: text_tokenizer.convert_tokens_to_ids(token) for token in SPECIAL}
    codec = tiny_mimi_config()
    config = CsmConfig(
        num_codebooks=CODEBOOKS,
        text_vocab_size=len(text_tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        pad_token_id=ids["<|pad|>"],
        bos_token_id=ids["<|begin_of_text|>"],
        eos_token_id=ids["<|end_of_text|>"],
        audio_token_id=ids["<|AUDIO|>"],
        audio_eos_token_id=ids["<|audio_eos|>"],
        depth_decoder_config={
            "num_codebooks": CODEBOOKS,
            "backbone_hidden_size": 64,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "max_position_embeddings": CODEBOOKS + 1,
        },
        codec_config=codec.to_dict(),
    )
    CsmForConditionalGeneration(config).eval().save_pretrained(directory)
    feature_extractor = EncodecFeatureExtractor(feature_size=1, sampling_rate=24000)
    CsmProcessor(feature_extractor, text_tokenizer).save_pretrained(directory)
    return directory
