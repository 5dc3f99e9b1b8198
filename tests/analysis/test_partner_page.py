"""One page per partner organisation, and the report of one partner only (`--org`).

The page's numbers are checked against the report's own tables and against the raw
answers: its scores beside the partnership's, the trust it gives and receives with
reciprocity, its roles, its culture against the others, and only its own comments.
"""

from __future__ import annotations

import dataclasses
import html
import re

import pytest

from analysis import charts
from analysis.report import render_html
from analysis.report.partners import page_of
from trustscan.reporting import context_for

from .reporting_support import Built, built_from_shared, people
from .test_hidden_answers import CONFIG

SIZES = {"dijkhoven": 12, "veenstede": 10, "brugwoude": 6, "lindermeer": 2}


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One wave of each scan; comments from groups of 5 so Veenstede's and Dijkhoven's show."""
    config = dataclasses.replace(CONFIG, min_group_size_comments=5)
    plan = {
        "trust": [people("trust", 1, SIZES)],
        "evaluation": [people("evaluation", 1, SIZES)],
        "culture": [people("culture", 1, SIZES)],
    }
    return built_from_shared(tmp_path_factory, "partner-page", plan, config)


def one(scans: Built, org: str) -> str:
    ctx = dataclasses.replace(context_for(CONFIG, "en"), k_comments=5)
    return html.unescape(render_html(scans.reports, ctx, org=org))


def section(page: str, org: str) -> str:
    """The HTML of one partner's section of the full page."""
    start = page.index(f"id='partner-{org}'")
    return page[start : page.index("</section>", start)]


def test_scores_against_the_partnership(scans: Built) -> None:
    """Its mean per dimension with the interval, beside the mean over the shown partners."""
    trust = scans.report("trust")
    view = page_of(trust, "veenstede")
    own = trust.tables["dimension_scores"]
    row = own[(own["org"] == "veenstede") & (own["dimension"] == "gunnen")].iloc[0]
    page_row = view.scores[view.scores["dimension"] == "gunnen"].iloc[0]
    assert page_row["mean"] == row["mean"]
    answers = scans.answers
    shown = {"dijkhoven", "veenstede", "brugwoude"}  # lindermeer hidden: not in the mean
    scores = trust.tables["dimension_scores"]
    weights = scores[(scores["dimension"] == "gunnen") & scores["org"].isin(shown)]
    pooled = (weights["mean"] * weights["n"]).sum() / weights["n"].sum()
    assert page_row["all_mean"] == pytest.approx(pooled)
    assert answers["org"].eq("lindermeer").any()
    text = section(html.unescape(scans.page), "veenstede")
    interval = f"{row['mean']:.2f} [{row['ci_low']:.2f} – {row['ci_high']:.2f}]"
    assert interval in text
    assert f"{page_row['all_mean']:.2f} [" in text


def test_trust_given_and_received_with_reciprocity(scans: Built) -> None:
    """Partner by partner: its trust in them, theirs in it, the difference with the interval."""
    trust = scans.report("trust")
    matrix = trust.tables["trust_matrix"]
    given = matrix[(matrix["org"] == "dijkhoven") & (matrix["target"] == "veenstede")].iloc[0]
    received = matrix[(matrix["org"] == "veenstede") & (matrix["target"] == "dijkhoven")].iloc[0]
    text = section(html.unescape(scans.page), "dijkhoven")
    row = re.search(
        r"<td>Veenstede</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", text
    )
    assert row is not None
    assert row.group(1) == f"{given['mean']:.2f}" and row.group(2) == f"{received['mean']:.2f}"
    pairs = trust.tables["reciprocity_tests"]
    pair = pairs[(pairs["org"] == "dijkhoven") & (pairs["target"] == "veenstede")].iloc[0]
    assert row.group(3).startswith(f"{pair['diff']:+.2f} [")
    # seen from Veenstede the same pair turns round: the difference changes sign
    view = page_of(trust, "veenstede").pairs.set_index("target")
    assert view.loc["dijkhoven", "diff"] == pytest.approx(-pair["diff"])
    assert view.loc["dijkhoven", "ci_low"] == pytest.approx(-pair["ci_high"])
    # Lindermeer's two people: its trust in Dijkhoven is hidden, Dijkhoven's in it is not
    hidden = re.search(r"<td>Lindermeer</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", text)
    assert hidden is not None and hidden.group(2) == charts.hidden_label(
        "small", CONFIG.min_group_size, "en"
    )
    assert (
        hidden.group(1)
        == f"{matrix.set_index(['org', 'target']).loc[('dijkhoven', 'lindermeer'), 'mean']:.2f}"
    )


def test_roles_culture_and_response(scans: Built) -> None:
    """Its role gap, its culture against the others' mean, its response rate."""
    evaluation = scans.report("evaluation")
    view = page_of(evaluation, "dijkhoven")
    assert view.roles["role"].nunique() == 4 and view.roles["hidden"].any()
    culture = scans.report("culture")
    profiles = culture.tables["culture_profiles"]
    clan = profiles[profiles["type"] == "clan"].set_index("org")
    view = page_of(culture, "dijkhoven").culture.set_index("type")
    others = clan.loc[["veenstede", "brugwoude"], "now"].mean()  # lindermeer hidden
    assert view.loc["clan", "others_now"] == pytest.approx(others)
    assert view.loc["clan", "now"] == clan.loc["dijkhoven", "now"]
    text = section(html.unescape(scans.page), "dijkhoven")
    headcount = next(o.headcount for o in CONFIG.organisations if o.id == "dijkhoven")
    assert f"12 completed questionnaires of {headcount} people" in text
    assert f"{100 * 12 / headcount:.0f}%" in text and "Below 60%" in text


def test_one_partner_only(scans: Built) -> None:
    """`org`: that partner's page and the methods; no other partner's page or comments."""
    page = one(scans, "veenstede")
    assert "<h1>" in page and "Veenstede</h1>" in page
    assert "id='partner-" not in page and "Key findings" not in page
    own = [
        c for r in scans.reports for c in r.comments.loc[r.comments["org"] == "veenstede", "text"]
    ]
    others = sum(int((r.comments["org"] != "veenstede").sum()) for r in scans.reports)
    assert own and others  # the report shows comments of other partners too
    assert page.count("<blockquote>") == len(own)  # this page: its own only
    assert all(f"<blockquote>{c}</blockquote>" in page for c in own)
    trust = scans.report("trust")
    own_scores = trust.tables["dimension_scores"]
    mean = own_scores[(own_scores["org"] == "veenstede")]["mean"].iloc[0]
    assert f"{mean:.2f} [" in page
    with pytest.raises(ValueError, match="nowhere"):
        one(scans, "nowhere")


def test_a_hidden_partner_has_a_page_that_shows_nothing(scans: Built) -> None:
    """Lindermeer (2 people) keeps its page: every figure says 'fewer than k', none of its
    answers."""
    text = section(html.unescape(scans.page), "lindermeer")
    assert f"fewer than {CONFIG.min_group_size}" in text
    assert "n &lt; " not in text and "n < " not in text
    assert not re.search(r"<td>Lindermeer</td>", text)  # no trust row about itself
    view = page_of(scans.report("trust"), "lindermeer")
    assert view.scores["mean"].isna().all() and view.comments.empty


def test_its_answers_to_choice_and_nps_questions(scans: Built) -> None:
    """Its share per option of the future-of-the-partnership choice and its NPS, as in the
    report's tables."""
    evaluation = scans.report("evaluation")
    shares = evaluation.tables["answer_shares"]
    mine = shares[(shares["org"] == "dijkhoven") & (shares["question"] == "c_future")]
    ended = mine.set_index("option").loc["end", "share"]
    nps = evaluation.tables["nps"].set_index("org").loc["dijkhoven", "score"]
    text = section(html.unescape(scans.page), "dijkhoven")
    assert "<b>Future of the partnership</b>: " in text
    assert f"be ended: {ended:.0f}%" in text
    assert f"<b>Recommend to others</b>: NPS {nps:+.0f}" in text
