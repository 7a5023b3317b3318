"""Stories on a labelled busy day and week (tests/fixtures/stories, see its README).

Prints pairwise precision/recall and B-cubed F1 of the story ids. The issue's
targets (busy day: P >= 0.90, R >= 0.85) are asserted in a strict xfail test:
they are not reached yet (figures in docs/dedup.md), and the test turns into a
failure the day they are, so the marker must then be removed. The floor test
guards what is reached against regressions.
"""

from __future__ import annotations

import pytest

from tests.support import story_days as sd


@pytest.fixture(scope="module")
def labelled() -> tuple[dict[str, str], list[tuple[str, str]], dict[str, list[int]]]:
    fx = sd.fixture()
    gold, amb = sd.labels(fx)
    return gold, amb, fx["week"]["days"]


@pytest.fixture(scope="module")
def busy(labelled: tuple[dict[str, str], list[tuple[str, str]], dict[str, list[int]]]) -> sd.Scores:
    gold, amb, _ = labelled
    scores = sd.score(sd.run(sd.busy_day_times(list(gold))).story, gold, amb)
    print(f"\nbusy day: {scores.line()}")
    return scores


def test_fixture_labels_every_article_with_a_reason() -> None:
    fx = sd.fixture()
    texts = sd.texts()
    assert len(fx["articles"]) >= 40
    for a in fx["articles"]:
        assert a["id"] in texts and a["event"] and len(a["reason"]) > 10
    events = {a["event"] for a in fx["articles"]}
    assert len(events) >= 20 and set(fx["week"]["days"]) == events


def test_busy_day_floor(busy: sd.Scores) -> None:
    # the cross-validated setting (scripts/story_cv.py): measured P 1.000 R 0.557
    # B-cubed 0.913 (docs/dedup.md, round 4); the first round's was P 1.000 R 0.114 B-cubed 0.810
    assert busy.bcubed_f1 >= 0.9
    assert busy.precision >= 0.95 and busy.recall >= 0.5
    assert not busy.mixed


@pytest.mark.xfail(strict=True, reason="issue 13 targets not reached yet (docs/dedup.md)")
def test_busy_day_targets(busy: sd.Scores) -> None:
    assert busy.precision >= 0.90 and busy.recall >= 0.85
    assert not busy.mixed


def test_week_with_follow_ups(
    labelled: tuple[dict[str, str], list[tuple[str, str]], dict[str, list[int]]],
) -> None:
    gold, amb, days = labelled
    run = sd.run(sd.week_times(gold, days))
    scores = sd.score(run.story, gold, amb)
    print(f"\nweek: {scores.line()}")
    assert scores.bcubed_f1 >= 0.75 and scores.precision >= 0.8
    # the generals' recall (day 6) does not join the quiet liaison-office story (day 2)
    generals = run.story["sem:1643088053"]
    liaison = run.story["sem:1636299501"]
    assert generals != liaison


def test_control_day_measured_not_tuned() -> None:
    # the second labelled day (tests/fixtures/stories/controls.json: 56 German non-Korea
    # articles, 40 events), labelled before any story run on it and never used to choose a
    # parameter: the honest estimate. Measured P 1.000 R 0.632 B-cubed 0.958 (round 4;
    # round 3's setting 1.000 / 0.579 / 0.948), docs/dedup.md
    gold, _ = sd.labels(sd.fixture("controls.json"))
    assert not set(gold) & {a["id"] for a in sd.fixture()["articles"]}
    scores = sd.score(sd.run(sd.busy_day_times(list(gold))).story, gold)
    print(f"\ncontrol day: {scores.line()}")
    assert scores.precision >= 0.95 and not scores.mixed
    assert scores.recall >= 0.55 and scores.bcubed_f1 >= 0.9


def test_feed_day_measured_not_tuned() -> None:
    # the third labelled day (tests/fixtures/stories/feedday.json: 211 entries of real German
    # feeds of 2024-12-21, the day after the Magdeburg attack), labelled before any story run
    # on it and never used to choose a parameter. Run at the entries' own published times and
    # at busy-day times (all within 20 hours, shuffled). Measured once (round-4 setting):
    # published times P 0.829 R 0.081 B-cubed 0.850, floors 0.80 / 0.07 / 0.83; busy-day
    # times P 0.977 R 0.100 B-cubed 0.856, floors 0.95 / 0.09 / 0.84. Both runs mixed event
    # pairs (Magdeburg-related sports items joined attack stories, or the FC Bayern tribute
    # joined the Bayern-Leipzig match): a new mix fails here; they are not a target.
    fx = sd.fixture("feedday.json")
    docs, published = sd.feed_day(fx)
    gold, amb = sd.labels(fx)
    assert all(len(a["reason"]) > 10 and len(a["text"]) >= 80 for a in fx["articles"])
    assert {e for p in amb for e in p} <= set(gold.values())
    own = sd.score(sd.run(published, docs=docs).story, gold, amb)
    busy = sd.score(sd.run(sd.busy_day_times(list(gold)), docs=docs).story, gold, amb)
    print(f"\nfeed day, published times: {own.line()}")
    print(f"feed day, busy-day times: {busy.line()}")
    assert own.precision >= 0.80 and own.recall >= 0.07 and own.bcubed_f1 >= 0.83
    assert busy.precision >= 0.95 and busy.recall >= 0.09 and busy.bcubed_f1 >= 0.84
    # no mix beyond those measured (fewer is an improvement, not a failure)
    assert set(own.mixed) <= {
        ("bundesliga-silence", "magdeburg-attack"),
        ("fcm-duesseldorf", "magdeburg-attack"),
        ("fcm-duesseldorf", "magdeburg-security-failures"),
    }
    assert set(busy.mixed) <= {("bayern-leipzig", "bundesliga-silence")}
