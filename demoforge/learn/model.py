"""The policy: from (instruction, page, recent actions) to the next action.

One readable file, in the spirit of nanoGPT. The policy never chooses from a
fixed list of buttons or words:

- the *target* is a pointer: every element of the page gets a score per
  operation (click, type, press...), and the action is the best
  (element, operation) pair;
- the *text to type* is copied: a span of the instruction's word pieces is
  pointed at, its start and end scored together and conditioned on the
  chosen element, so the agent can only ever type words it was given (a
  secret it once saw masked can never come out of it);
- a *key* to press comes from the small set of keys seen in training, and so
  do the modifiers a click holds (none, or Control to add to a selection).

Elements are first described on their own (``features.py``: words, match with
the instruction, place, state, part in recent actions), then look at each
other through a few self-attention layers, so "the field below the label that
names the instruction's word" can be expressed. Layers are plain ``Linear`` /
``LayerNorm`` / ``Embedding``, which Opacus can compute per-sample gradients
for, so the same model trains with DP-SGD.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

import torch
import torch.nn as nn
import torch.nn.functional as F

from demoforge.dataset.actions import CLICKS, OPS, TEXTS, only_modifiers
from demoforge.learn.encoder import EMBED_DIM, TextEncoder
from demoforge.learn.features import (
    IN_QUOTES,
    N_ELEMENT_FEATURES,
    N_GLOBAL_FEATURES,
    N_TOKEN_FEATURES,
    NEARER_LABEL,
    QUOTE,
    TAG_BUCKETS,
    WORD_END,
    WORD_START,
    StepFeatures,
)

IGNORE = -100
#: Word pieces either side of a piece that its label context looks at ("from year 1994": "year").
CONTEXT_WINDOW = 3
#: Label-context features per word piece; see ``label_context``.
N_CONTEXT_FEATURES = 24
#: Copy-span lengths (in word pieces) the span head tells apart; longer ones share the last.
SPAN_LENGTHS = 32


@dataclass
class PolicyConfig:
    d: int = 128
    proj: int = 64
    n_layers: int = 2
    n_heads: int = 4
    dropout: float = 0.1
    keys: list[str] = field(default_factory=lambda: ["Enter"])

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Batch:
    """Padded features of B decisions, and (for training) their labels."""

    elem_num: torch.Tensor  # (B, E, Fe)
    elem_tag: torch.Tensor  # (B, E, 2)
    elem_emb: torch.Tensor  # (B, E, 384)
    label_emb: torch.Tensor  # (B, E, 384) the text before each element
    after_emb: torch.Tensor  # (B, E, 384) the text after it
    elem_mask: torch.Tensor  # (B, E) True where an element is
    instr_emb: torch.Tensor  # (B, 384)
    glob: torch.Tensor  # (B, Fg)
    tok_emb: torch.Tensor  # (B, T, 384)
    tok_num: torch.Tensor  # (B, T, Ft)
    tok_mask: torch.Tensor  # (B, T)
    mention_emb: torch.Tensor  # (B, E, 384) the contextual vector of where the instruction names each element
    context_emb: torch.Tensor  # (B, E, 384) the words around where it names each element ("email from _ to")
    stem_matches: torch.Tensor  # (B, E, T, 3) bool: a piece's word stem is in the element's words, its labels'
    target: torch.Tensor | None = None  # (B,) index of the target element
    op: torch.Tensor | None = None  # (B,) index into OPS
    key: torch.Tensor | None = None  # (B,) index into config.keys or IGNORE
    start: torch.Tensor | None = None  # (B,) word piece or IGNORE
    end: torch.Tensor | None = None  # (B,) word piece or IGNORE

    def rows(self, index: torch.Tensor) -> Batch:
        """The same batch with only the decisions at ``index``."""
        return replace(self, **{f.name: getattr(self, f.name)[index] for f in fields(self)
                                if getattr(self, f.name) is not None})


def _pad(tensors: list[torch.Tensor], length: int) -> torch.Tensor:
    out = tensors[0].new_zeros((len(tensors), length, *tensors[0].shape[1:]))
    for i, t in enumerate(tensors):
        out[i, : t.shape[0]] = t
    return out


def collate(
    steps: list[StepFeatures],
    encoder: TextEncoder,
    labels: list[tuple[int, int, int, int, int]] | None = None,
) -> Batch:
    """Pad a list of steps into a batch, looking their texts up in the encoder's cache.

    ``labels`` are (target, op, key, start, end) per step.
    """
    e = max(max(len(s.refs) for s in steps), 1)
    t = max(max(len(s.offsets) for s in steps), 1)
    elem_mask = torch.zeros(len(steps), e, dtype=torch.bool)
    tok_mask = torch.zeros(len(steps), t, dtype=torch.bool)
    for i, s in enumerate(steps):
        elem_mask[i, : len(s.refs)] = True
        tok_mask[i, : len(s.offsets)] = True

    def vectors(texts: list[str]) -> torch.Tensor:
        return torch.from_numpy(encoder.embed(texts))

    tok_emb = _pad([torch.from_numpy(encoder.tokens(s.instruction)[0]) for s in steps], t)
    pieces = torch.arange(t)
    spans = _pad([s.mentions for s in steps], e)  # padding rows are (0, 0): masked out below
    named = (pieces >= spans[..., :1]) & (pieces <= spans[..., 1:]) & elem_mask[..., None] & (spans[..., :1] >= 0)
    weights = named.float() / named.sum(-1, keepdim=True).clamp(min=1)
    batch = Batch(
        elem_num=_pad([s.elem_num for s in steps], e),
        elem_tag=_pad([s.elem_tag for s in steps], e),
        elem_emb=_pad([vectors(s.elem_texts) for s in steps], e),
        label_emb=_pad([vectors(s.label_texts) for s in steps], e),
        after_emb=_pad([vectors(s.after_texts) for s in steps], e),
        elem_mask=elem_mask,
        instr_emb=vectors([s.instruction for s in steps]),
        glob=torch.stack([s.glob for s in steps]),
        tok_emb=tok_emb,
        tok_num=_pad([s.tok_num for s in steps], t),
        tok_mask=tok_mask,
        mention_emb=weights @ tok_emb,
        context_emb=_pad([vectors(s.context_texts) for s in steps], e),
        stem_matches=_pad([F.pad(s.stem_matches, (0, 0, 0, t - s.stem_matches.shape[1])) for s in steps], e),
    )
    if labels is not None:
        cols = torch.tensor(labels, dtype=torch.long).reshape(len(steps), 5)
        batch.target, batch.op, batch.key, batch.start, batch.end = cols.unbind(1)
    return batch


class SelfAttention(nn.Module):
    """Multi-head self-attention over the page's elements (plain Linear layers)."""

    def __init__(self, cfg: PolicyConfig) -> None:
        super().__init__()
        self.n_heads = cfg.n_heads
        self.qkv = nn.Linear(cfg.d, 3 * cfg.d)
        self.out = nn.Linear(cfg.d, cfg.d)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        q, k, v = (z.view(b, n, self.n_heads, d // self.n_heads).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.n_heads)
        att = att.masked_fill(~mask[:, None, None, :], float("-inf"))
        att = self.drop(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).reshape(b, n, d)
        return self.out(y)


class Block(nn.Module):
    def __init__(self, cfg: PolicyConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d)
        self.attn = SelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.d, 2 * cfg.d), nn.GELU(), nn.Linear(2 * cfg.d, cfg.d), nn.Dropout(cfg.dropout)
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))


class Policy(nn.Module):
    def __init__(self, cfg: PolicyConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d, p = cfg.d, cfg.proj
        self.text_proj = nn.Linear(EMBED_DIM, p)  # shared by element, label and instruction texts
        self.tag = nn.Embedding(TAG_BUCKETS, 16)
        self.itype = nn.Embedding(TAG_BUCKETS, 8)
        elem_in = N_ELEMENT_FEATURES + 16 + 8 + 8 * p
        self.elem_in = nn.Sequential(nn.Linear(elem_in, d), nn.GELU(), nn.Linear(d, d))
        self.glob_in = nn.Sequential(nn.Linear(N_GLOBAL_FEATURES + p, d), nn.GELU(), nn.Linear(d, d))
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(d)
        self.act_head = nn.Linear(2 * d, len(OPS))  # per element and operation
        self.key_head = nn.Linear(2 * d, len(cfg.keys))
        self.tok_in = nn.Sequential(
            nn.Linear(EMBED_DIM + N_TOKEN_FEATURES + N_CONTEXT_FEATURES, d), nn.GELU(), nn.Linear(d, d)
        )
        self.span_ctx = nn.Linear(2 * d, 2 * d)  # the chosen element asks for a start and an end
        self.span_pair = nn.Linear(d, d, bias=False)  # how a span's first and last pieces go together
        self.span_len = nn.Embedding(SPAN_LENGTHS, 1)  # how likely a span of this length is
        nn.init.zeros_(self.span_len.weight)

    def encode(self, b: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Contextual element states (B, E, d) and the global state (B, d)."""
        q = self.text_proj(b.instr_emb)
        e = self.text_proj(b.elem_emb)
        lab = self.text_proj(b.label_emb)
        after = self.text_proj(b.after_emb)
        named = self.text_proj(b.mention_emb)
        role = self.text_proj(b.context_emb)
        qe = q[:, None, :].expand_as(e)
        x = torch.cat(
            [b.elem_num, self.tag(b.elem_tag[..., 0]), self.itype(b.elem_tag[..., 1]),
             e, lab, after, e * qe, lab * qe, after * qe, named, role],
            dim=-1,
        )
        x = self.elem_in(x)
        g = self.glob_in(torch.cat([b.glob, q], dim=-1))
        h = torch.cat([g[:, None, :], x], dim=1)
        mask = torch.cat([torch.ones_like(b.elem_mask[:, :1]), b.elem_mask], dim=1)
        for block in self.blocks:
            h = block(h, mask)
        h = self.ln_f(h)
        return h[:, 1:], h[:, 0]

    def action_logits(self, h: torch.Tensor, g: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, E, n_ops) scores; padding elements get -inf."""
        logits = self.act_head(torch.cat([h, g[:, None, :].expand_as(h)], dim=-1))
        return logits.masked_fill(~mask[..., None], float("-inf"))

    def span_logits(
        self, b: Batch, target: torch.Tensor, h_target: torch.Tensor, g: torch.Tensor
    ) -> torch.Tensor:
        """Scores (B, T, T) of every copy span [start, end] of the instruction's word
        pieces, for the chosen elements; -inf where end < start or past the words.

        The span is scored whole, not as a best start plus a best end: scored
        apart, the two ends came from two different values. A policy typed
        'action movies directed by Haney' into a search form's director field
        (its start head took the genre, its end head the director), where all
        61 recorded multi-orderings typings are one word. So a span's score adds
        to its start's and end's how its first and last pieces go together and
        how likely its length is.
        """
        tok = self.tok_in(torch.cat([b.tok_emb, b.tok_num, label_context(b, target)], dim=-1))
        ctx_s, ctx_e = self.span_ctx(torch.cat([h_target, g], dim=-1)).chunk(2, dim=-1)
        start = (tok @ ctx_s[..., None]).squeeze(-1)
        end = (tok @ ctx_e[..., None]).squeeze(-1)
        together = self.span_pair(tok) @ tok.transpose(1, 2) / math.sqrt(tok.shape[-1])
        n, t = b.tok_mask.shape
        length = torch.arange(t)[None, :] - torch.arange(t)[:, None]  # [s, e]: e - s
        prior = self.span_len(length.clamp(0, SPAN_LENGTHS - 1).expand(n, t, t)).squeeze(-1)
        spans = start[:, :, None] + end[:, None, :] + together + prior
        valid = b.tok_mask[:, :, None] & b.tok_mask[:, None, :] & (length >= 0)
        return spans.masked_fill(~valid, float("-inf"))

    def forward(self, b: Batch) -> torch.Tensor:
        """Per-decision training loss (B,): action pointer + key + copy span."""
        assert b.target is not None and b.op is not None
        h, g = self.encode(b)
        n_ops = len(OPS)
        logits = self.action_logits(h, g, b.elem_mask).flatten(1)
        loss = F.cross_entropy(logits, b.target * n_ops + b.op, reduction="none")
        rows = torch.arange(h.shape[0])
        h_t = h[rows, b.target]
        key_logits = self.key_head(torch.cat([h_t, g], dim=-1))
        loss = loss + _masked_ce(key_logits, b.key)
        spans = self.span_logits(b, b.target, h_t, g).flatten(1)
        t = b.tok_mask.shape[1]
        span = torch.where(b.start == IGNORE, b.start, b.start * t + b.end)
        return loss + _masked_ce(spans, span)


class Ensemble(nn.Module):
    """Policies trained alike from different seeds, deciding together.

    One policy's choices on a task swing between retrainings from the same data
    (grid-coordinate 0.30, 0.00, 0.60 over three of them): where the
    demonstrations leave a choice open, each seed settles it its own way. Each
    member scores every (element, operation), key and span; the decision is the
    best of the members' mean log-probabilities, so a choice one member makes
    by chance and the others do not is outvoted. A single policy is an
    ensemble of one, and decides exactly as it would alone.
    """

    def __init__(self, members: list[Policy]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.cfg = members[0].cfg

    @torch.no_grad()
    def decide(
        self,
        b: Batch,
        max_span: int = 24,
        exclude: list[list[int]] | None = None,
        numbers: list[tuple[set[int], torch.Tensor]] | None = None,
        field_names: list[torch.Tensor] | None = None,
        picked: list[torch.Tensor] | None = None,
        waiting: list[torch.Tensor] | None = None,
        elsewhere: list[torch.Tensor] | None = None,
    ) -> list[dict]:
        """The best action of each decision: element index, op, key, and the span
        (start, end) it types, None where it types nothing.

        ``exclude`` lists, per decision, (element index * len(OPS) + op index)
        pairs not to choose: actions already seen to change nothing on this page.
        When every pair is excluded, ``target`` is None. ``numbers`` gives, per
        decision, the elements that take only a number (``<input type=number>``)
        and which word pieces of the instruction are digits: what is typed into
        such a field is a run of digits when the instruction holds one.
        ``field_names`` gives, per decision, which word pieces name a field
        (``features.field_name_pieces``): a typed value holds none. ``picked`` gives
        which word pieces name what was clicked before (``features.picked_pieces``):
        a typed value holds none either. ``waiting`` gives which word pieces are in a
        quoted value whose turn has not come (``features.waiting_pieces``): a typed
        value holds none. ``elsewhere`` gives, per element, which word pieces are
        another field's value by where they stand (``features.elsewhere_pieces``):
        what is typed into it holds none, the last rule to give way.
        """
        looks = [(m, *m.encode(b)) for m in self.members]
        logits = _mean([_log_probs(m.action_logits(h, g, b.elem_mask).flatten(1)) for m, h, g in looks])
        for i, pairs in enumerate(exclude or []):
            logits[i, pairs] = float("-inf")
        best = logits.argmax(dim=1)
        n_ops = len(OPS)
        target, op = best // n_ops, best % n_ops
        rows = torch.arange(b.elem_mask.shape[0])
        # Only a decision that types needs a span: scoring every span for every
        # click took a third of a decision's time.
        typed = rows[torch.tensor([OPS[int(o)] in TEXTS for o in op], dtype=torch.bool)]
        keys, spans = [], []
        for m, h, g in looks:
            h_t = h[rows, target]
            keys.append(_log_probs(m.key_head(torch.cat([h_t, g], dim=-1))))
            if len(typed):
                spans.append(_log_probs(m.span_logits(b.rows(typed), target[typed], h_t[typed], g[typed]).flatten(1)))
        # A click holds modifiers or nothing; a press presses a key, never a modifier alone.
        clicks = torch.tensor([OPS[int(o)] in CLICKS for o in op])
        holds = torch.tensor([only_modifiers(k) for k in self.cfg.keys])
        fits = torch.where(clicks[:, None], holds[None, :], ~holds[None, :])
        key = _mean(keys).masked_fill(~fits, float("-inf")).argmax(dim=1)
        t = b.tok_mask.shape[1]
        span = dict(zip(typed.tolist(), _mean(spans).view(-1, t, t))) if spans else {}
        out = []
        for i in range(len(rows)):
            if torch.isinf(logits[i, best[i]]):
                out.append({"target": None})
                continue
            decision = {
                "target": int(target[i]),
                "op": OPS[int(op[i])],
                "key": self.cfg.keys[int(key[i])] if fits[i, key[i]] else None,
                "span": None,
                "confidence": float(F.softmax(logits[i], dim=0)[best[i]]),
            }
            out.append(decision)
            if i not in span:
                continue
            pair = span[i]
            # A span that ends before it starts already scores -inf (``span_logits``).
            allowed = torch.ones(t, t, dtype=torch.bool).tril(max_span - 1)
            # When an instruction quotes values, what is typed is one of them: so it
            # was in 359 of the 362 recorded typings whose instruction quotes
            # something (a password field's is never in the recordings, and the head
            # once typed "password", the word next to the field's label, for it).
            # It is the whole value: so were 330 of the 352 typings inside a quoted
            # value (case aside) outside flight.Alaska-auto, whose people typed a
            # city's first letters for its autocomplete; most of the 22 others
            # dropped a final full stop. The head once typed 'erat quis sagittis.'
            # for "Justo, erat quis sagittis.".
            # A typed value stays inside its quotation marks ("qAfD", not 'qAfD" into'),
            # and people type whole words: a span starts at a word's start and ends at
            # a word's end ("d8W", not "d8"; never on a quotation mark). Each rule
            # holds when the spans left allow it.
            in_quotes = b.tok_num[i, :t, IN_QUOTES] > 0
            mark = b.tok_num[i, :t, QUOTE] > 0
            clear_of_quotes = _free_of(mark)
            opens = in_quotes & ~mark & F.pad(mark, (1, 0))[:t]  # the first piece of a quoted value
            closes = in_quotes & ~mark & F.pad(mark, (0, 1))[1:]  # its last piece
            word_start, word_end = b.tok_num[i, :t, WORD_START] > 0, b.tok_num[i, :t, WORD_END] > 0
            rules = [in_quotes[:, None] & in_quotes[None, :], opens[:, None] & closes[None, :] & clear_of_quotes,
                     clear_of_quotes, word_start[:, None] & word_end[None, :]]
            avoids = [rule[i] for rule in (field_names, picked, waiting) if rule]
            if elsewhere:
                avoids.append(elsewhere[i][target[i]])
            rules += [_free_of(F.pad(avoided, (0, t - len(avoided)))) for avoided in avoids]
            fields, digits = numbers[i] if numbers else (set(), torch.zeros(0, dtype=torch.bool))
            if int(target[i]) in fields:
                # A number field takes a number: a word of the instruction typed into one
                # leaves it empty (guess-number's field once got "the", for "Guess the number").
                not_digit = torch.ones(t, dtype=torch.bool)
                not_digit[: len(digits)] = ~digits
                rules.insert(0, _free_of(not_digit))
            for rule in rules:
                if torch.isfinite(pair.masked_fill(~(allowed & rule), float("-inf"))).any():
                    allowed = allowed & rule
            pair = pair.masked_fill(~allowed, float("-inf"))
            decision["span"] = divmod(int(pair.flatten().argmax()), t)
        return out


def _free_of(marked: torch.Tensor) -> torch.Tensor:
    """(T, T): whether the span s..e holds none of the ``marked`` word pieces."""
    count = F.pad(marked.long().cumsum(0), (1, 0))
    return count[None, 1:] == count[:-1, None]


def _log_probs(logits: torch.Tensor) -> torch.Tensor:
    """Log-softmax over the last axis that leaves a row of only -inf as it is (an
    instruction without words has no span to score), where plain log-softmax gives NaN."""
    total = torch.logsumexp(logits, dim=-1, keepdim=True)
    return logits - total.masked_fill(torch.isinf(total), 0.0)


def _mean(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack(tensors).mean(dim=0)


def label_context(b: Batch, target: torch.Tensor) -> torch.Tensor:
    """(B, T, 24): how much each instruction word piece, and the pieces just before and
    just after it, are like the chosen element's own words, its labels before and after,
    and the nearer of those two (its own label, not the next field's: ``NEARER_LABEL``):
    by sentence vectors (columns 0-3) and by shared word stems (4-7; ``stem_matches``).
    Columns 8-15 are the same for the pieces before, 16-23 for the pieces after: the
    best of the ``CONTEXT_WINDOW`` pieces on that side, each weighed down by its
    distance (1, 2/3, 1/3), since the word that names a value stands next to it. In
    "action movies directed by Carr", "movies" echoes the label "Movie Genre" as
    much as "directed" echoes "Director Name"; it is only further from "Carr".

    An instruction names a value by the words next to it, and those words echo the
    field's label: "from **year** 1994" for the field labelled "Year", "**directed**
    by Stuart" for "Director Name", "to Pauli" for "To". Reading the value's
    neighbours against the field's labels is how a person knows which value goes
    where; a copy head left to learn it from a few hundred form demonstrations
    typed the values of a form in the wrong fields.
    """
    rows = torch.arange(target.shape[0])
    before, after = b.label_emb[rows, target], b.after_emb[rows, target]
    after_is_nearer = b.elem_num[rows, target, NEARER_LABEL] < 0
    nearer = torch.where(after_is_nearer[:, None], after, before)
    texts = torch.stack([b.elem_emb[rows, target], before, after, nearer], dim=1)
    sims = F.normalize(b.tok_emb, dim=-1) @ F.normalize(texts, dim=-1).transpose(1, 2)  # (B, T, 4)
    stems = b.stem_matches[rows, target].float()  # (B, T, 3): own, before, after
    nearer_stem = torch.where(after_is_nearer[:, None], stems[..., 2], stems[..., 1])
    likeness = torch.cat([sims, stems, nearer_stem[..., None]], dim=-1)
    likeness = likeness.masked_fill(~b.tok_mask[..., None], 0.0)
    t, near = likeness.shape[1], likeness.clamp(min=0)
    weight = [(CONTEXT_WINDOW + 1 - k) / CONTEXT_WINDOW for k in range(1, CONTEXT_WINDOW + 1)]
    preceding = torch.stack([F.pad(near, (0, 0, k, 0))[:, :t] * weight[k - 1] for k in range(1, CONTEXT_WINDOW + 1)]).amax(0)
    following = torch.stack([F.pad(near, (0, 0, 0, k))[:, k:] * weight[k - 1] for k in range(1, CONTEXT_WINDOW + 1)]).amax(0)
    return torch.cat([likeness, preceding, following], dim=-1)


def _masked_ce(logits: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """Cross-entropy per row, 0 where the label is IGNORE."""
    if labels is None:
        return torch.zeros(logits.shape[0])
    safe = labels.clamp(min=0)
    ce = F.cross_entropy(logits.masked_fill(torch.isinf(logits), -1e9), safe, reduction="none")
    return torch.where(labels == IGNORE, torch.zeros_like(ce), ce)
