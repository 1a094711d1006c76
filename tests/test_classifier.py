"""The members' classifier: its arrays read as scikit-learn's model reads, a broken file stops start-up, the shipped
file is trained on today's data, and the handler defers to it where it is sure (intents.md ids, by hand)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

from bot.app import checked
from bot.errors import StartupError
from intents.classifier import (CLASSIFIER_FILE, MIN_COUNT, REGULARISATION, TOLERANCE, ClassifierError, IntentClassifier,
                                digest, train, training_questions)
from intents.matcher import features
from intents.normalize import normalize
from intents.segment import Segmenter

TINY = [(normalize(text), after, intent) for text, after, intent in [
    ("签注要带什么材料", None, "permit.materials"), ("签注要带啥", None, "permit.materials"),
    ("签注带什么证件", None, "permit.materials"), ("积分续办要多久", None, "points.processing_time"),
    ("积分审核要几天", None, "points.processing_time"), ("积分多久能批下来", None, "points.processing_time"),
    ("杭州居住证怎么办", None, "out_of_scope"), ("苏州居住证怎么续", None, "out_of_scope"), ("护照怎么办", None, "out_of_scope"),
    # the same words after different questions: the question before says what is asked
    ("那积分呢", "permit.materials", "points.materials"), ("积分的呢", "permit.materials", "points.materials"),
    ("那积分呢", "permit.processing_time", "points.processing_time"),
    ("积分的呢", "permit.processing_time", "points.processing_time"),
]]


def test_the_arrays_read_a_question_as_scikit_learn_does(tmp_path):
    segmenter = Segmenter()
    path = tmp_path / "tiny.npz"
    train(TINY, segmenter, path)
    classifier = IntentClassifier(path)
    # The same model fitted here, read by scikit-learn itself: a message's words and bigrams, and the previous
    # question's intent and topic as two more features.
    def analyzer(asked):
        text, after = asked
        return [*features(text, segmenter.words(text)), *([f"@after:{after}", f"@after:{after.split('.')[0]}"]
                                                           if after else [])]
    vectorizer = CountVectorizer(analyzer=analyzer, binary=True, min_df=MIN_COUNT)
    model = LogisticRegression(C=REGULARISATION, max_iter=3000, tol=TOLERANCE).fit(
        vectorizer.fit_transform([(text, after) for text, after, _ in TINY]), [intent for *_, intent in TINY])
    for text, after in [("签注要带什么", None), ("积分要多久", None), ("广州居住证怎么续", None), ("完全无关的话", None),
                        ("那积分呢", "permit.materials"), ("那积分呢", "permit.processing_time"),
                        ("积分呢", "permit.renew_window")]:
        text = normalize(text)
        expected = model.predict_proba(vectorizer.transform([(text, after)]))[0]
        reading = classifier.read(text, segmenter.words(text), after)
        assert reading.intent == model.classes_[expected.argmax()]
        assert reading.probability == pytest.approx(expected.max(), abs=1e-5)
    assert classifier.read(normalize("签注要带什么"), segmenter.words("签注要带什么")).intent == "permit.materials"
    words = segmenter.words("那积分呢")
    assert classifier.read("那积分呢", words, "permit.materials").intent == "points.materials"
    assert classifier.read("那积分呢", words, "permit.processing_time").intent == "points.processing_time"


def test_a_training_message_is_read_after_its_senders_previous_one_within_the_context_window(tmp_path):
    (tmp_path / "eval").mkdir()
    lines = [{"time": "2026-03-01T10:00:00+08:00", "room": "r#a", "sender": "a", "text": "签注要带啥",
              "expect": {"intent": ["permit.materials"]}},
             {"time": "2026-03-01T10:05:00+08:00", "room": "r#b", "sender": "b", "text": "积分续办要多久",
              "expect": {"intent": "points.processing_time"}},
             {"time": "2026-03-01T10:20:00+08:00", "room": "r#a", "sender": "a", "text": "那积分呢",
              "expect": {"intent": ["points.materials", "points.process"]}},
             {"time": "2026-03-01T11:00:00+08:00", "room": "r#a", "sender": "a", "text": "要多久",
              "expect": {"intent": ["points.processing_time"]}}]  # 40 minutes on: more than CONTEXT
    (tmp_path / "eval" / "tuning_x_questions.jsonl").write_text(
        "\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    asked = training_questions(tmp_path)[:4]
    assert asked == [("签注要带啥", None, "permit.materials"), ("积分续办要多久", None, "points.processing_time"),
                     ("那积分呢", "permit.materials", "points.materials"), ("要多久", None, "points.processing_time")]


def test_the_shipped_classifier_is_trained_on_todays_questions():
    assert IntentClassifier().digest == digest(training_questions()), (
        "the tuning sets, FAQ or members' questions changed since intents/data/classifier.npz was trained: "
        "run `make classifier`")


def test_no_fresh_set_is_trained_on():
    from intents.classifier import TRAINING_SETS
    assert not any("fresh" in pattern for pattern in TRAINING_SETS)


@pytest.mark.parametrize("content", [b"", b"not a numpy file", None])
def test_a_missing_or_broken_classifier_file_stops_start_up_naming_it(tmp_path, content):
    path = tmp_path / "classifier.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ClassifierError, match="classifier.npz"):
        IntentClassifier(path)
    with pytest.raises(StartupError, match="classifier.npz.*make classifier"):
        checked(path, IntentClassifier)


def test_arrays_of_the_wrong_shape_are_refused(tmp_path):
    path = tmp_path / "classifier.npz"
    np.savez(path, features=np.array(["签注"]), weights=np.zeros((2, 3), np.float32), bias=np.zeros(3, np.float32),
             intents=np.array(["a", "b", "c"]), digest=np.array("x"))
    with pytest.raises(ClassifierError, match="shapes"):
        IntentClassifier(path)


def test_the_shipped_file_loads():
    classifier = IntentClassifier(CLASSIFIER_FILE)
    assert "out_of_scope" in classifier.intents and "permit.materials" in classifier.intents


def test_the_shipped_members_questions_hold_every_training_sets_first_questions():
    import tomllib
    from intents.classifier import members_questions
    from intents.matcher import UTTERANCES_FILE
    shipped = {intent: group["utterances"] for intent, group in tomllib.loads(UTTERANCES_FILE.read_text("utf-8")).items()}
    assert members_questions() == shipped, "a training set changed since utterances.toml was written: `make classifier`"


def test_members_questions_add_each_askers_first_in_scope_question_once(tmp_path):
    from intents.classifier import members_questions
    (tmp_path / "eval").mkdir()
    lines = [  # asker 1 asks twice (only the first counts); asker 2's first is out of scope; asker 3 repeats a text
        {"room": "群#a", "sender": "a", "text": "签注要带啥", "expect": {"intent": ["permit.materials"]}},
        {"room": "群#a", "sender": "a", "text": "那积分呢", "expect": {"intent": ["points.materials"]}},
        {"room": "群#b", "sender": "b", "text": "杭州居住证怎么续", "expect": {"intent": ["out_of_scope"]}},
        {"room": "群#b", "sender": "b", "text": "那上海呢", "expect": {"intent": ["permit.process"]}},
        {"room": "群#c", "sender": "c", "text": "积分多久审核完", "expect": {"intent": ["points.processing_time", "points.progress_query"]}},
        {"room": "群#d", "sender": "d", "text": "积分续办要多久", "expect": {"intent": ["points.processing_time"]}},
    ]
    (tmp_path / "eval" / "tuning_zz_questions.jsonl").write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    shipped = tmp_path / "utterances.toml"
    shipped.write_text('# header\n["points.processing_time"]\nutterances = ["积分续办要多久"]\n', encoding="utf-8")
    assert members_questions(tmp_path, shipped) == {
        "points.processing_time": ["积分续办要多久", "积分多久审核完"], "permit.materials": ["签注要带啥"]}
