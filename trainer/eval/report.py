"""Evaluation reports: JSON (everything), a Markdown table (the headline numbers), and plots
where they say more than a table (score distributions, calibration)."""

from __future__ import annotations

import json
import math
from pathlib import Path


def _f(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def reviewer_markdown(result: dict, title: str = "Reviewer evaluation") -> str:
    lines = [
        f"## {title}",
        "",
        f"{result['papers']} papers, {result['parsed']} with a parsable review. Target: the mean "
        "of each paper's human reviewers. Human: each reviewer against the mean of the others "
        "(leave-one-out). Constant: the mean human score of these papers.",
        "",
        "| score | n | MSE | MAE | Spearman | Pearson | pairwise acc. | human MAE (LOO) | constant MAE |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, e in result["scores"].items():
        lines.append(
            f"| {name} | {e['n']} | {_f(e['mse'])} | {_f(e['mae'])} | {_f(e['spearman'])} | "
            f"{_f(e['pearson'])} | {_f(e['pairwise_accuracy'])} | {_f(e['human_loo']['mae'])} | "
            f"{_f(e['constant_mae'])} |"
        )
    if not result["scores"]:
        lines.append("| (no parsable score: nothing to compare) | | | | | | | | |")
    d = result.get("decision")
    if d:
        lines += [
            "",
            f"Decision: accuracy {_f(d['accuracy'])}, macro F1 {_f(d['macro_f1'])} on {d['n']} papers "
            f"(majority class '{d['majority_class']}' alone: {_f(d['majority_accuracy'])}); "
            f"predicted acceptance rate {_f(d['predicted_accept_rate'])}.",
        ]
    return "\n".join(lines) + "\n"


def baselines_markdown(result: dict, title: str = "Human baselines") -> str:
    lines = [
        f"## {title}",
        "",
        "| score | pairs | human MAE (95% CI) | human MSE | Pearson | constant-mean MAE |",
        "|---|---|---|---|---|---|",
    ]
    for name, e in result.items():
        low, high = e["mae_ci95"]
        lines.append(
            f"| {name} | {e['pairs']} | {_f(e['mae'])} ({_f(low)}-{_f(high)}) | {_f(e['mse'])} | "
            f"{_f(e['pearson'], 2)} | {_f(e['constant_mae'])} |"
        )
    return "\n".join(lines) + "\n"


def researcher_markdown(result: dict, title: str = "Researcher evaluation") -> str:
    low, high = result["average_score_ci95"]
    rlow, rhigh = result["acceptance_rate_ci95"]
    return (
        f"## {title}\n\n| papers | rated | average score (95% CI) | acceptance rate (95% CI) |\n"
        f"|---|---|---|---|\n| {result['papers']} | {result['rated']} | "
        f"{_f(result['average_score'], 2)} ({_f(low, 2)}-{_f(high, 2)}) | "
        f"{_f(100 * result['acceptance_rate'], 1)}% ({_f(100 * rlow, 1)}-{_f(100 * rhigh, 1)}%) |\n"
    )


def write_report(out_dir: Path, name: str, result: dict, markdown: str, plots=()) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / f"{name}.json", out_dir / f"{name}.md"]
    written[0].write_text(json.dumps(result, indent=2, default=float))
    written[1].write_text(markdown)
    for plot in plots:
        path = plot(out_dir)
        if path is not None:
            written.append(path)
    return written


def reviewer_plots(result: dict):
    """Per score: predicted vs human distributions, and calibration (human mean per bin of
    predictions, against the diagonal)."""

    def distributions(out_dir: Path) -> Path | None:
        entries = result["scores"]
        if not entries:
            return None
        plt = _pyplot()
        fig, axes = plt.subplots(1, len(entries), figsize=(4 * len(entries), 3.2), squeeze=False)
        for ax, (name, e) in zip(axes[0], entries.items(), strict=True):
            ax.hist([e["true"], e["pred"]], bins=10, label=["human mean", "model"])
            ax.set_title(name)
            ax.legend(fontsize=7)
        return _save(fig, out_dir / "score_distributions.png")

    def calibration(out_dir: Path) -> Path | None:
        e = result["scores"].get("rating")
        if not e:
            return None
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.scatter(e["pred"], e["true"], s=8, alpha=0.5)
        low = min(e["pred"] + e["true"])
        high = max(e["pred"] + e["true"])
        ax.plot([low, high], [low, high], color="grey", linewidth=1)
        ax.set_xlabel("predicted rating")
        ax.set_ylabel("human mean rating")
        ax.set_title(f"calibration (Spearman {_f(e['spearman'], 2)})")
        return _save(fig, out_dir / "calibration.png")

    return (distributions, calibration)


def researcher_plots(result: dict):
    def distribution(out_dir: Path) -> Path | None:
        if not result["ratings"]:
            return None
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.hist(result["ratings"], bins=10)
        ax.axvline(result["average_score"], color="black", linewidth=1)
        ax.set_xlabel("simulated review rating")
        return _save(fig, out_dir / "researcher_scores.png")

    return (distribution,)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path
