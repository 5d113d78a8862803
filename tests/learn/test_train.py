"""The training loop on a tiny dataset: it learns, resumes, is deterministic, and DP-SGD accounts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import demoforge.learn.features as features_module
import demoforge.learn.model as model_module
import demoforge.learn.train as train_module
from demoforge.learn.checkpoint import load_policy
from demoforge.learn.train import (
    CHECKPOINT_FILE,
    MEMBERS_DIR,
    METRICS_FILE,
    Sample,
    learning_rate_factor,
    train,
    with_floor,
)


def metrics(model: Path) -> list[dict]:
    return [json.loads(line) for line in (model / METRICS_FILE).read_text().splitlines()]


def weights(model: Path, member: int = 0) -> dict[str, torch.Tensor]:
    return load_policy(model).members[member].state_dict()


def test_loss_decreases_and_held_out_actions_are_learned(tiny_dataset: Path, tmp_path: Path) -> None:
    info = train(tiny_dataset, tmp_path / "m", epochs=4, seed=0, show=False)
    rows = metrics(tmp_path / "m")
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    assert rows[-1]["train_loss"] < 0.5 * rows[0]["train_loss"]
    # worker6 is held out entirely: these are pages and words the loop never trained on.
    assert info["held_out_examples"] > 0
    assert rows[-1]["validation_action_accuracy"] >= 0.9
    assert rows[-1]["validation_copy_accuracy"] >= 0.9
    card = (tmp_path / "m" / "README.md").read_text()
    assert "without differential privacy" in card


def test_same_seed_same_weights_and_resume_matches_uninterrupted(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train(tiny_dataset, tmp_path / "a", epochs=3, seed=7, show=False)
    # "b" is interrupted as its third epoch begins, then resumed.
    epochs_begun: list[int] = []

    def interrupted(*args: object, **kwargs: object) -> object:
        epochs_begun.append(1)
        if len(epochs_begun) == 3:
            raise KeyboardInterrupt
        return real_batches(*args, **kwargs)

    real_batches = train_module.batches
    monkeypatch.setattr(train_module, "batches", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_dataset, tmp_path / "b", epochs=3, seed=7, show=False)
    monkeypatch.undo()
    train(tiny_dataset, tmp_path / "b", epochs=3, seed=7, resume=True, show=False)
    a, b = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [r["epoch"] for r in metrics(tmp_path / "b")] == [1, 2, 3]
    train(tiny_dataset, tmp_path / "c", epochs=1, seed=8, show=False)
    c = weights(tmp_path / "c")
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_resuming_a_finished_run_returns_its_facts_and_trains_only_what_is_left(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    first = train(tiny_dataset, tmp_path / "m", epochs=2, seed=0, show=False)
    model = (tmp_path / "m" / "model.pt").read_bytes()
    again = train(tiny_dataset, tmp_path / "m", epochs=2, seed=0, resume=True, show=False)
    assert again == first and again["metrics"]["epoch"] == 2  # the card keeps its metrics
    assert (tmp_path / "m" / "model.pt").read_bytes() == model
    assert "train_loss" in (tmp_path / "m" / "README.md").read_text()
    longer = train(tiny_dataset, tmp_path / "m", epochs=3, seed=0, resume=True, show=False)
    assert longer["metrics"]["epoch"] == 3
    assert [r["epoch"] for r in metrics(tmp_path / "m")] == [1, 2, 3]
    # The time of the first two epochs counts in the resumed run's figures.
    elapsed = [r["elapsed_s"] for r in metrics(tmp_path / "m")]
    assert elapsed == sorted(elapsed) and longer["wall_s"] > first["wall_s"]


def test_existing_model_is_not_overwritten(tiny_dataset: Path, tmp_path: Path) -> None:
    train(tiny_dataset, tmp_path / "m", epochs=1, seed=0, show=False)
    (tmp_path / "m" / CHECKPOINT_FILE).unlink()
    before = (tmp_path / "m" / "model.pt").read_bytes()
    with pytest.raises(FileExistsError):
        train(tiny_dataset, tmp_path / "m", epochs=1, seed=0, show=False)
    assert (tmp_path / "m" / "model.pt").read_bytes() == before


def test_missing_dataset_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no Parquet files"):
        train(tmp_path / "nothing", tmp_path / "m", epochs=1, show=False)
    assert not (tmp_path / "m").exists()


def test_dp_sgd_records_contributor_level_epsilon(tiny_dataset: Path, tmp_path: Path) -> None:
    info = train(tiny_dataset, tmp_path / "dp", epochs=2, seed=0, dp_epsilon=8.0, show=False)
    dp = info["privacy"]
    assert 0 < dp["epsilon"] <= 8.0 + 1e-6
    assert dp["delta"] < 1 / dp["contributors"]
    assert dp["contributors"] == 6  # workers 0-5 train; worker6 is the held-out split
    card = (tmp_path / "dp" / "README.md").read_text()
    assert "contributor level" in card and f"{dp['delta']:.2e}" in card


def test_learning_rate_warms_up_then_anneals_to_zero() -> None:
    total = 1000
    factors = [learning_rate_factor(step, total) for step in range(total)]
    assert factors[0] < 0.05 and max(factors) == pytest.approx(1.0)
    peak = factors.index(max(factors))
    assert all(a <= b for a, b in zip(factors[:peak], factors[1 : peak + 1]))  # rises
    assert all(a >= b for a, b in zip(factors[peak:], factors[peak + 1 :]))  # then falls
    assert factors[-1] < 1e-4


def test_a_task_with_few_examples_is_repeated_up_to_the_floor(tiny_dataset: Path, tmp_path: Path) -> None:
    def of(task: str, n: int) -> list[Sample]:
        return [Sample(None, (k, 0, 0, 0, 0), "someone", "train", task) for k in range(n)]  # type: ignore[arg-type]

    rare, common = of("rare", 3), of("common", 10)
    epoch = with_floor(rare + common, 8)
    assert epoch[:13] == rare + common  # every example once, then the repeats
    assert [s.label[0] for s in epoch if s.task == "rare"] == [0, 1, 2, 0, 1, 2, 0, 1]  # in turn
    assert sum(s.task == "common" for s in epoch) == 10  # a task with enough is left as it is
    assert with_floor(rare, None) == rare

    info = train(tiny_dataset, tmp_path / "m", epochs=1, seed=0, show=False, min_per_task=500)
    card = (tmp_path / "m" / "README.md").read_text()
    assert info["min_per_task"] == 500 and "repeated up to that many" in card


def test_a_model_of_another_version_is_refused_clearly(tiny_dataset: Path, tmp_path: Path) -> None:
    train(tiny_dataset, tmp_path / "m", epochs=1, seed=0, show=False)
    path = tmp_path / "m" / "model.pt"
    original = torch.load(path, weights_only=False)
    weights = original["members"][0]
    first = next(k for k, v in weights.items() if v.dim() == 2)
    fewer_features = {**weights, first: weights[first][:, :-1]}  # one input feature fewer
    without_a_layer = {k: v for k, v in weights.items() if not k.startswith("span_pair.")}  # before whole spans
    for older in (fewer_features, without_a_layer):
        torch.save({**original, "members": [older]}, path)
        with pytest.raises(ValueError, match="another version .* train it again"):
            load_policy(tmp_path / "m")


def test_a_model_read_by_code_that_reads_pages_otherwise_is_refused(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changes that keep every weight's shape (a feature computed another way, the label
    context weighed otherwise) are caught by the model's answers to the probe."""
    train(tiny_dataset, tmp_path / "m", epochs=1, seed=0, show=False)
    load_policy(tmp_path / "m")  # the code it was trained with reads it
    label_context, labels = model_module.label_context, features_module.labels
    changes = [
        (model_module, "label_context", lambda b, target: label_context(b, target) * 0.5),
        (features_module, "labels", lambda elements: [(j, i) for i, j in labels(elements)]),  # before and after swapped
    ]
    for module, name, changed in changes:
        with monkeypatch.context() as m:
            m.setattr(module, name, changed)
            with pytest.raises(ValueError, match="otherwise than the code it was trained with"):
                load_policy(tmp_path / "m")


def test_an_ensemble_holds_one_policy_per_seed(tiny_dataset: Path, tmp_path: Path) -> None:
    info = train(tiny_dataset, tmp_path / "e", epochs=2, seed=3, members=2, show=False)
    assert [m["seed"] for m in info["members"]] == [3, 4]
    assert len(load_policy(tmp_path / "e").members) == 2
    train(tiny_dataset, tmp_path / "f", epochs=2, seed=4, members=2, show=False)
    first, second, again = weights(tmp_path / "e", 0), weights(tmp_path / "e", 1), weights(tmp_path / "f", 0)
    assert all(torch.equal(second[k], again[k]) for k in again)  # seed 4, from two ensembles, all the same
    assert any(not torch.equal(first[k], second[k]) for k in first)
    assert [r["epoch"] for r in metrics(tmp_path / "e" / MEMBERS_DIR / "1")] == [1, 2]
    assert "Ensemble of 2 members" in (tmp_path / "e" / "README.md").read_text()


def test_an_ensemble_is_not_trained_with_dp_sgd(tiny_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="privacy budget"):
        train(tiny_dataset, tmp_path / "e", epochs=1, dp_epsilon=8.0, members=2, show=False)
    assert not (tmp_path / "e").exists()
