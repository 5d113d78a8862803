"""DP-SGD with the contributor, not the single step, as the privacy unit.

A contributor records many episodes, each of many steps. Example-level DP-SGD
would bound the influence of one *step*; what a person consents to share is
their whole set of recordings, so the guarantee here is for a whole
contributor (user-level DP, as in McMahan et al. 2018, "Learning
differentially private recurrent language models"):

1. each training step samples every contributor independently with
   probability ``q`` (Poisson sampling, which the RDP accountant assumes);
2. for each sampled contributor, up to ``max_examples`` of their decisions
   are drawn and their per-example gradients (Opacus ``GradSampleModule``)
   are *summed* into one gradient per contributor;
3. that contributor gradient is clipped to norm ``max_grad_norm``, so one
   person moves the model by at most that much whatever they recorded;
4. Gaussian noise of standard deviation ``noise_multiplier * max_grad_norm``
   is added to the sum, which is divided by the expected number of sampled
   contributors;
5. Opacus's RDP accountant tracks (epsilon, delta) over the steps, with the
   noise multiplier calibrated up front by Opacus's ``get_noise_multiplier``
   to reach the requested epsilon after all epochs.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import torch
from opacus import GradSampleModule
from opacus.accountants import RDPAccountant
from opacus.accountants.utils import get_noise_multiplier

from demoforge.learn.encoder import TextEncoder
from demoforge.learn.model import Policy, collate

if TYPE_CHECKING:
    from demoforge.learn.train import Sample


class ContributorDPSGD:
    """Runs DP-SGD epochs over ``samples`` grouped by contributor."""

    def __init__(
        self,
        policy: Policy,
        samples: list[Sample],
        epsilon: float,
        epochs: int,
        batch_size: int = 32,
        seed: int = 0,
        max_grad_norm: float = 1.0,
        max_examples: int = 16,
        delta: float | None = None,
    ) -> None:
        if epsilon <= 0:
            raise ValueError("--dp-epsilon must be positive")
        groups: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(samples):
            groups[s.contributor].append(i)
        self.groups = [groups[c] for c in sorted(groups)]
        n = len(self.groups)
        self.samples = samples
        self.max_examples = max_examples
        self.max_grad_norm = max_grad_norm
        # Expected contributors per step so that a step sees about batch_size decisions.
        per = sum(min(len(g), max_examples) for g in self.groups) / n
        self.sample_rate = min(1.0, max(1.0, batch_size / per) / n)
        self.steps_per_epoch = max(1, round(1 / self.sample_rate))
        self.delta = delta if delta is not None else min(1e-5, 1.0 / (10 * n))
        self.epsilon_target = epsilon
        self.noise_multiplier = get_noise_multiplier(
            target_epsilon=epsilon,
            target_delta=self.delta,
            sample_rate=self.sample_rate,
            steps=epochs * self.steps_per_epoch,
            accountant="rdp",
        )
        self.model = GradSampleModule(policy, loss_reduction="sum")
        self.accountant = RDPAccountant()
        self.rng = random.Random(seed)

    def epoch(
        self, optim: torch.optim.Optimizer, encoder: TextEncoder, before_step: Callable[[], None] = lambda: None
    ) -> Iterator[float]:
        """One epoch of noisy steps; yields each step's mean training loss.
        ``before_step`` runs before each optimiser step (the learning-rate schedule)."""
        params = [p for p in self.model.parameters() if p.requires_grad]
        expected = self.sample_rate * len(self.groups)
        for _ in range(self.steps_per_epoch):
            chosen = [g for g in self.groups if self.rng.random() < self.sample_rate]
            rows: list[int] = []
            owner: list[int] = []
            for k, g in enumerate(chosen):
                picked = self.rng.sample(g, min(len(g), self.max_examples))
                rows += picked
                owner += [k] * len(picked)
            summed = [torch.zeros_like(p) for p in params]
            loss_value = float("nan")
            if rows:
                batch = collate([self.samples[i].features for i in rows], encoder, [self.samples[i].label for i in rows])
                losses = self.model(batch)
                self.model.zero_grad(set_to_none=True)
                losses.sum().backward()
                loss_value = losses.detach().mean().item()
                index = torch.tensor(owner)
                per_contrib = []
                for p in params:
                    gs = p.grad_sample.reshape(len(rows), -1)
                    per_contrib.append(torch.zeros(len(chosen), gs.shape[1]).index_add_(0, index, gs))
                norms = torch.cat(per_contrib, dim=1).norm(dim=1)
                scale = (self.max_grad_norm / (norms + 1e-6)).clamp(max=1.0)
                for s, p, pc in zip(summed, params, per_contrib):
                    s += (pc * scale[:, None]).sum(0).reshape(p.shape)
                    p.grad_sample = None
            for s, p in zip(summed, params):
                noise = torch.normal(0.0, self.noise_multiplier * self.max_grad_norm, size=p.shape)
                p.grad = (s + noise) / expected
            before_step()
            optim.step()
            self.accountant.step(noise_multiplier=self.noise_multiplier, sample_rate=self.sample_rate)
            yield loss_value

    def spent(self) -> dict[str, float]:
        return {"dp_epsilon": self.accountant.get_epsilon(self.delta) if self.accountant.history else 0.0}

    def state_dict(self) -> dict:
        return {"history": list(self.accountant.history), "rng": self.rng.getstate()}

    def load_state_dict(self, state: dict) -> None:
        self.accountant.history = list(state["history"])
        self.rng.setstate(state["rng"])

    def card(self) -> dict:
        return {
            "epsilon": self.spent()["dp_epsilon"],
            "epsilon_target": self.epsilon_target,
            "delta": self.delta,
            "contributors": len(self.groups),
            "noise_multiplier": self.noise_multiplier,
            "max_grad_norm": self.max_grad_norm,
            "sample_rate": self.sample_rate,
            "steps": len(self.accountant.history) and sum(h[2] for h in self.accountant.history),
            "accountant": "RDP (Opacus)",
            "method": (
                "user-level DP-SGD: contributors Poisson-sampled per step, the summed gradient of up to "
                f"{self.max_examples} of a contributor's decisions clipped per contributor, Gaussian noise "
                "added to the sum (see demoforge/learn/privacy.py)"
            ),
        }
